package io.reel.store.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The recent-records cache holds what its byte budget allows, and lets go of the rest. */
class RecentRecordsTest {
    private static final int BATCH_BYTES = 1 << 20;

    @Test
    void batchesPastTheBudgetAreNoLongerServedNorHeld() {
        RecentRecords recent = new RecentRecords(8192, 4L * BATCH_BYTES);
        WeakReference<byte[]> first = addBatch(recent, 0);
        for (int i = 1; i < 10; i++) {
            addBatch(recent, i * 10L);
        }
        assertThat(recent.find(5)).as("the first batch is past the budget").isNull();
        assertThat(recent.find(95)).isNotNull();
        assertThat(recent.find(65)).isNotNull();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return first.get() == null;
        });
    }

    @Test
    void aClearedCacheServesNothingAndHoldsNothing() {
        RecentRecords recent = new RecentRecords(8192, 64L * BATCH_BYTES);
        WeakReference<byte[]> batch = addBatch(recent, 0);
        recent.clear();
        assertThat(recent.find(5)).isNull();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return batch.get() == null;
        });
    }

    /** Ten records at {@code first}, in a batch of its own arena; a weak reference to the arena. */
    private static WeakReference<byte[]> addBatch(RecentRecords recent, long first) {
        byte[] arena = new byte[BATCH_BYTES];
        recent.add(new CommittedBatch(first, 10, arena, BATCH_BYTES, new int[] {0}, new int[] {0}, 0));
        return new WeakReference<>(arena);
    }
}
