package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.EventSource;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The arithmetic of {@link ProjectionLag} on plain values (the refresh against a store is in {@code ProjectionRunnerTest}). */
class ProjectionLagSecondsTest {
    private static ProjectionLag lag() {
        return new ProjectionLag("p", (EventSource) null, Clock.systemUTC(), Duration.ofSeconds(1), () -> 0);
    }

    @Test
    void secondsAreTheAgeOfTheOldestPendingRecordAndNeverNegative() {
        assertThat(ProjectionLag.secondsSince(5_500_000, 1_000_000)).isEqualTo(4.5);
        assertThat(ProjectionLag.secondsSince(1_000_000, 2_000_000)).as("a clock behind the writer's").isZero();
    }

    @Test
    void eventsAreTheDistanceToTheHighestHeadSeenAndSecondsAreZeroWhenCaughtUp() {
        ProjectionLag lag = lag();
        lag.headAtLeast(10);
        lag.headAtLeast(7);
        assertThat(lag.events(4)).isEqualTo(6);
        assertThat(lag.events(12)).isZero();
        assertThat(lag.seconds(0)).isZero();
    }

    @Property
    void theHeadOnlyMovesForward(@ForAll @Size(max = 20) List<@LongRange(min = 0, max = 1000) Long> heads,
                                 @ForAll @LongRange(min = 0, max = 1000) long position) {
        ProjectionLag lag = lag();
        long highest = 0;
        for (long h : heads) {
            lag.headAtLeast(h);
            highest = Math.max(highest, h);
            assertThat(lag.events(position)).isEqualTo(Math.max(0, highest - position));
        }
    }

    @Property
    void secondsSinceIsTheMicrosDifferenceOrZero(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 4) long now,
                                                 @ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 4) long then) {
        double s = ProjectionLag.secondsSince(now, then);
        assertThat(s).isGreaterThanOrEqualTo(0);
        assertThat(s).isEqualTo(now >= then ? (now - then) / 1e6 : 0);
    }
}
