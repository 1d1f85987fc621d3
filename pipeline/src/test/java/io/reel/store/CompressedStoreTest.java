package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.internal.log.LogRecovery;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** With LZ4 frames on, a store reads, restarts, verifies and scavenges as without, in fewer segments. */
@Timeout(60)
class CompressedStoreTest {
    private static List<List<EventData>> appends() {
        List<List<EventData>> appends = new ArrayList<>();
        for (int a = 0; a < 200; a++) {
            List<EventData> events = new ArrayList<>();
            for (int i = 0; i < 1 + a % 20; i++) {
                events.add(EventData.json("OrderPlaced", "{\"order\": " + a + ", \"line\": " + i
                    + ", \"customer\": \"customer-" + (a % 7) + "\", \"status\": \"placed\", \"currency\": \"EUR\"}"));
            }
            appends.add(events);
        }
        return appends;
    }

    /** Writes the appends and returns how many segments they took. */
    private static int write(Path dir, StoreSettings settings, List<List<EventData>> appends) {
        try (EventStore store = EventStore.open(dir, settings)) {
            for (int a = 0; a < appends.size(); a++) {
                TestStores.await(store.append("order-" + (a % 5), ExpectedRevision.ANY, appends.get(a)));
            }
            TestStores.await(store.setStreamMetadata("order-0", StreamMetadata.NONE.withMaxCount(3)));
            TestStores.await(store.scavenge());
        }
        try {
            return LogRecovery.segmentFiles(dir.resolve("log")).size();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void readsRestartsVerifiesAndScavengesInFewerBytes() {
        List<List<EventData>> appends = appends();
        Path plain = TempDirs.create("plain");
        Path lz4 = TempDirs.create("lz4");
        try {
            StoreSettings settings = TestStores.small().build();
            int plainSegments = write(plain, settings, appends);
            int lz4Segments = write(lz4, settings.toBuilder().compression(StoreSettings.Compression.LZ4).build(), appends);
            assertThat(lz4Segments).as("compressed frames fill fewer segments").isLessThan(plainSegments);
            assertThat(StoreAdmin.stats(lz4).head()).isEqualTo(StoreAdmin.stats(plain).head());
            assertThat(StoreAdmin.verify(lz4).problems()).isEmpty();
            try (EventStore store = EventStore.open(lz4, settings)) {
                for (int stream = 1; stream < 5; stream++) {
                    List<EventData> expected = new ArrayList<>();
                    for (int a = stream; a < appends.size(); a += 5) {
                        expected.addAll(appends.get(a));
                    }
                    List<RecordedEvent> read = TestStores.await(store.readStream("order-" + stream, 0, 0, Direction.FORWARDS));
                    assertThat(read).hasSameSizeAs(expected);
                    for (int i = 0; i < read.size(); i++) {
                        assertThat(read.get(i).eventId()).isEqualTo(expected.get(i).eventId());
                        assertThat(new String(read.get(i).data(), StandardCharsets.UTF_8))
                            .isEqualTo(new String(expected.get(i).data(), StandardCharsets.UTF_8));
                    }
                }
                assertThat(TestStores.await(store.readStream("order-0", 0, 0, Direction.FORWARDS))).hasSize(3);
                long order1 = 0;
                for (int a = 1; a < appends.size(); a += 5) {
                    order1 += appends.get(a).size();
                }
                assertThat(TestStores.await(store.readStream("order-1", order1 - 1, 0, Direction.BACKWARDS)))
                    .hasSize((int) order1).extracting(RecordedEvent::revision).startsWith(order1 - 1);
            }
        } finally {
            TempDirs.delete(plain);
            TempDirs.delete(lz4);
        }
    }
}
