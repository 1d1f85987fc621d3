package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What scavenge and retention remove is gone from every read path at once (files, the recent-records cache,
 * stream reads, catch-up subscriptions), and what they keep keeps its position.
 */
@Timeout(60)
class ScavengeReadTest {
    @TempDir
    Path dir;

    private static List<Long> positions(List<RecordedEvent> events) {
        return events.stream().map(RecordedEvent::position).toList();
    }

    private static List<Long> reversed(List<Long> list) {
        List<Long> copy = new java.util.ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }

    private static List<Long> subscribedPositions(EventStore store, long upTo) {
        return store.subscribe(SubscribeOptions.fromStart()).takeUntil(m -> m instanceof SubscriptionMessage.CaughtUp)
            .filter(m -> m instanceof SubscriptionMessage.Event).map(m -> ((SubscriptionMessage.Event) m).event().position())
            .filter(p -> p < upTo).collectList().block(Duration.ofSeconds(20));
    }

    @Test
    void removedRecordsAreGoneFromTheCacheTooAndStayGoneWhenTheTruncationIsLifted() {
        // a cache large enough to hold the whole log: without care it would go on serving what scavenge removed
        try (EventStore store = EventStore.open(dir, TestStores.small().recentCacheBytes(64L * 1024 * 1024).build())) {
            TestStores.appendMany(store, "doomed", "D", 5, 100);
            TestStores.appendMany(store, "kept", "K", 2, 100);
            TestStores.await(store.setStreamMetadata("doomed", StreamMetadata.NONE.withTruncateBefore(3)));
            TestStores.appendMany(store, "filler", "F", 40, 3000);
            ScavengeReport report = TestStores.await(store.scavenge());
            assertThat(report.recordsRemoved()).as("doomed@0..2").isEqualTo(3);
            List<Long> forwards = positions(TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none())));
            List<Long> backwards = positions(TestStores.await(store.readAll(EventSource.END, 0, Direction.BACKWARDS, EventFilter.none())));
            assertThat(forwards).doesNotContain(0L, 1L, 2L).contains(3L, 4L, 5L, 6L, 7L);
            assertThat(backwards).containsExactlyElementsOf(reversed(forwards));
            assertThat(subscribedPositions(store, store.headPosition())).containsExactlyElementsOf(forwards);

            TestStores.await(store.setStreamMetadata("doomed", StreamMetadata.NONE));
            assertThat(TestStores.await(store.readStream("doomed", 0, 0, Direction.FORWARDS))).extracting(RecordedEvent::revision)
                .as("lifting the truncation shows what is left, not what scavenge removed").containsExactly(3L, 4L);
        }
    }

    @Test
    void retentionDropsWholeOldestSegmentsAndLeavesEveryOtherPositionAsItWas() {
        StoreSettings settings = TestStores.small().retainBytes(4 * TestStores.SMALL_SEGMENT).build();
        long firstKept;
        List<Long> keptBefore;
        try (EventStore store = EventStore.open(dir, settings)) {
            for (int i = 0; i < 400; i++) {
                TestStores.await(store.append("s-" + i % 3, ExpectedRevision.ANY, TestStores.event("T", 1500)));
            }
            long segments = store.info().segments();
            assertThat(segments).isGreaterThan(6);
            ScavengeReport report = TestStores.await(store.scavenge());
            assertThat(report.segmentsDropped()).isPositive();
            assertThat(store.info().segments()).isEqualTo(segments - report.segmentsDropped());
            List<Long> all = positions(TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none())));
            firstKept = all.get(0);
            assertThat(firstKept).isPositive();
            assertThat(all).as("dense from the first kept position to the head").hasSize((int) (store.headPosition() - firstKept));
            assertThat(positions(TestStores.await(store.readAll(EventSource.END, 0, Direction.BACKWARDS, EventFilter.none()))))
                .containsExactlyElementsOf(reversed(all));
            assertThat(subscribedPositions(store, store.headPosition())).containsExactlyElementsOf(all);
            assertThat(TestStores.await(store.readAll(0, 1, Direction.FORWARDS, EventFilter.none()))).extracting(RecordedEvent::position)
                .containsExactly(firstKept);
            List<RecordedEvent> stream = TestStores.await(store.readStream("s-1", 0, 0, Direction.FORWARDS));
            assertThat(stream).allSatisfy(e -> assertThat(e.position()).isGreaterThanOrEqualTo(firstKept));
            assertThat(stream.get(stream.size() - 1).revision()).isEqualTo(132);
            keptBefore = all;
        }
        try (EventStore store = EventStore.open(dir, settings)) {
            assertThat(positions(TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none())))).containsExactlyElementsOf(keptBefore);
            assertThat(TestStores.await(store.append("s-1", ExpectedRevision.exactly(132), TestStores.event("T"))).nextExpectedRevision())
                .isEqualTo(133);
        }
    }

    @Test
    void retentionByAgeDropsSegmentsWhoseNewestRecordIsTooOld() {
        MutableClock clock = new MutableClock(Instant.parse("2026-06-01T00:00:00Z"));
        StoreSettings settings = TestStores.small().clock(clock).retainAge(Duration.ofDays(7)).build();
        try (EventStore store = EventStore.open(dir, settings)) {
            for (int i = 0; i < 150; i++) {
                TestStores.await(store.append("old", ExpectedRevision.ANY, TestStores.event("T", 1500)));
            }
            long oldHead = store.headPosition();
            clock.advance(Duration.ofDays(8));
            for (int i = 0; i < 150; i++) {
                TestStores.await(store.append("new", ExpectedRevision.ANY, TestStores.event("T", 1500)));
            }
            ScavengeReport report = TestStores.await(store.scavenge());
            assertThat(report.segmentsDropped()).isPositive();
            List<RecordedEvent> all = TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()));
            assertThat(all.get(0).position()).as("only the segment holding both old and new records may keep old ones")
                .isGreaterThan(oldHead - 50);
            assertThat(all).filteredOn(e -> e.stream().equals("new")).hasSize(150);
        }
    }
}
