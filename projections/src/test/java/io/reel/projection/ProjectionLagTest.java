package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.projection.ProjectionStatus.Phase;
import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.MutableClock;
import io.reel.store.StoreSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A projection's lag in seconds is the age, on the settings' clock, of the oldest record it has not applied: driven
 * here by a clock the test moves (the store stamps commits with the same clock), so nothing waits for time to pass.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProjectionLagTest {
    @TempDir
    Path dir;

    @Test
    void lagInSecondsIsTheAgeOfTheOldestPendingRecordOnTheProjectionsClock() {
        MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
        StoreSettings storeSettings = StoreSettings.builder().segmentSize(4 << 20).durability(Durability.batched(Duration.ofMillis(5)))
            .clock(clock).build();
        CountDownLatch release = new CountDownLatch(1);
        try (EventStore store = EventStore.open(dir.resolve("data"), storeSettings); Projections projections = Projections.embedded(store)) {
            try {
                store.append("orders", ExpectedRevision.ANY, EventData.json("Placed", "{}")).block(Duration.ofSeconds(10));
                Projection<Fold> held = Projection.builder("held", Fold::new).onAnyOther((fold, event) -> {
                    release.await();
                    return fold.add(event);
                }).codec(Fold.codec()).build();
                ProjectionRunner<Fold> runner = projections.start(held, ProjectionSettings.defaults()
                    .lagRefreshInterval(Duration.ofMillis(20)).clock(clock));

                clock.advance(Duration.ofSeconds(90));
                await().atMost(Duration.ofSeconds(20)).until(() -> runner.status().lagSeconds() == 90.0);
                clock.advance(Duration.ofSeconds(30));
                await().atMost(Duration.ofSeconds(20)).until(() -> runner.status().lagSeconds() == 120.0);

                release.countDown();
                await().atMost(Duration.ofSeconds(20)).until(() -> runner.status().phase() == Phase.RUNNING
                    && runner.status().position() == store.headPosition() && runner.status().lagSeconds() == 0.0);
            } finally {
                release.countDown();
            }
        }
    }
}
