package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads share the store's reader threads fairly: a {@code $all} read whose filter matches one record in
 * 400,000 gives its thread back after every 4,096 records it scans, so that a short read started after
 * twice as many such scans as there are reader threads is served while all of them are still scanning.
 */
@Timeout(120)
class ReadFairnessTest {
    private static final int COMMON = 400_000;

    @TempDir
    Path dir;

    @Test
    void aScanForARareEventGivesItsReaderThreadBackBetweenTurns() {
        int readerThreads = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
        // a small cache of recent records: the scans read the files, as they would on a store that ran a while
        try (EventStore store = EventStore.open(dir, StoreSettings.builder().recentCacheBytes(1 << 20).build())) {
            for (int i = 0; i < COMMON; i += 1000) {
                List<EventData> batch = new ArrayList<>();
                for (int j = 0; j < 1000; j++) {
                    batch.add(TestStores.event("Common", 20));
                }
                TestStores.await(store.append("busy-" + (i / 1000) % 7, ExpectedRevision.ANY, batch));
            }
            long rare = TestStores.await(store.append("odd", ExpectedRevision.ANY, TestStores.event("Rare"))).firstPosition();
            TestStores.await(store.append("short", ExpectedRevision.ANY, List.of(TestStores.event("Note"), TestStores.event("Note"))));
            assertThat(TestStores.await(store.readStream("short", 0, 0, Direction.FORWARDS))).hasSize(2);

            EventFilter filter = EventFilter.builder().eventType("Rare").build();
            List<CompletableFuture<List<RecordedEvent>>> scans = new ArrayList<>();
            for (int i = 0; i < 2 * readerThreads; i++) {
                scans.add(store.readAll(0, 0, Direction.FORWARDS, filter).collectList().toFuture());
            }
            List<RecordedEvent> shortRead = TestStores.await(store.readStream("short", 0, 0, Direction.FORWARDS));
            long finished = scans.stream().filter(CompletableFuture::isDone).count();

            assertThat(shortRead).hasSize(2);
            assertThat(finished).as("scans that had finished when the short read was served").isZero();
            for (CompletableFuture<List<RecordedEvent>> scan : scans) {
                assertThat(scan.join()).extracting(RecordedEvent::position).containsExactly(rare);
            }
        }
    }
}
