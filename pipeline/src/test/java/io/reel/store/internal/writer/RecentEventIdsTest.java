package io.reel.store.internal.writer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The id window: what it remembers, for how long, and positions beyond 32 bits. */
class RecentEventIdsTest {
    private final Random random = new Random(7);

    private UUID nextId() {
        return new UUID(random.nextLong(), random.nextLong());
    }

    @Test
    void remembersAtLeastTheLastHalfOfItsCapacityAndForgetsOlderGenerations() {
        RecentEventIds window = new RecentEventIds(1000);
        UUID[] ids = new UUID[5000];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = nextId();
            window.add(ids[i], i);
        }
        for (int i = ids.length - 500; i < ids.length; i++) {
            assertThat(window.find(ids[i])).as("id %d", i).isEqualTo(i);
        }
        int remembered = 0;
        for (int i = 0; i < 3000; i++) {
            if (window.find(ids[i]) >= 0) {
                remembered++;
            }
        }
        assertThat(remembered).as("ids two generations old are cleared").isZero();
        int unknownHits = 0;
        for (int i = 0; i < 10_000; i++) {
            if (window.find(nextId()) >= 0) {
                unknownHits++;
            }
        }
        assertThat(unknownHits).as("ids never written (hints are confirmed against the log, but should be rare)").isLessThan(5);
    }

    @Test
    void widensPositionsBeyondThirtyTwoBits() {
        RecentEventIds window = new RecentEventIds(65_536);
        long start = (1L << 32) - 20_000;
        UUID[] ids = new UUID[40_000];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = nextId();
            window.add(ids[i], start + i);
        }
        for (int i = 0; i < ids.length; i++) {
            assertThat(window.find(ids[i])).as("id %d", i).isEqualTo(start + i);
        }
        long far = 5L << 40;
        UUID late = nextId();
        window.add(late, far);
        assertThat(window.find(late)).isEqualTo(far);
    }

    @Test
    void aRepeatedIdPointsAtItsLatestPositionAndAnEmptyWindowKnowsNothing() {
        RecentEventIds window = new RecentEventIds(100);
        UUID id = nextId();
        window.add(id, 3);
        window.add(id, 9);
        assertThat(window.find(id)).isEqualTo(9);
        RecentEventIds disabled = new RecentEventIds(0);
        disabled.add(id, 1);
        assertThat(disabled.find(id)).isEqualTo(-1);
    }
}
