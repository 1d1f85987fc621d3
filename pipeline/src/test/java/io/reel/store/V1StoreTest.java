package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.internal.log.Bytes;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.LogRecovery;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A data directory written in format 1 (the committed fixture of {@link V1Fixture}) opens, reads, verifies,
 * backs up and takes new appends; its old segments stay as they are.
 */
@Timeout(60)
class V1StoreTest {
    private Path dir;

    @BeforeEach
    void copyFixture() throws IOException {
        dir = TempDirs.create("v1-store");
        try (Stream<Path> files = Files.walk(V1Fixture.DIRECTORY)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = dir.resolve(V1Fixture.DIRECTORY.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @AfterEach
    void delete() {
        TempDirs.delete(dir);
    }

    private static List<EventData> writtenEvents() {
        List<EventData> events = new ArrayList<>();
        V1Fixture.appends().forEach(a -> events.addAll(a.events()));
        return events;
    }

    private static void assertSameEvent(RecordedEvent r, EventData e) {
        assertThat(r.eventId()).isEqualTo(e.eventId());
        assertThat(r.type()).isEqualTo(e.type());
        assertThat(r.contentType()).isEqualTo(e.contentType());
        assertThat(r.data()).isEqualTo(e.data());
        assertThat(r.metadata()).isEqualTo(e.metadata());
    }

    @Test
    void opensAndReadsEveryEventWritten() {
        List<EventData> events = writtenEvents();
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            assertThat(store.headPosition()).isEqualTo(events.size() + 1);
            List<RecordedEvent> all = TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()));
            assertThat(all).hasSize(events.size() + 1);
            for (int i = 0; i < events.size(); i++) {
                assertThat(all.get(i).position()).isEqualTo(i);
                assertSameEvent(all.get(i), events.get(i));
            }
            List<RecordedEvent> order1 = TestStores.await(store.readStream("order-1", 0, 0, Direction.FORWARDS));
            List<EventData> expected = new ArrayList<>();
            V1Fixture.appends().stream().filter(a -> a.stream().equals("order-1")).forEach(a -> expected.addAll(a.events()));
            assertThat(order1).hasSize(expected.size());
            for (int i = 0; i < expected.size(); i++) {
                assertThat(order1.get(i).revision()).isEqualTo(i);
                assertSameEvent(order1.get(i), expected.get(i));
            }
            assertThat(TestStores.await(store.readStream("order-3", 0, 0, Direction.FORWARDS))).hasSize(5);
            List<RecordedEvent> backwards = TestStores.await(store.readAll(events.size() - 1, 10, Direction.BACKWARDS, EventFilter.none()));
            assertThat(backwards).extracting(RecordedEvent::position).startsWith((long) events.size() - 1, (long) events.size() - 2);
        }
    }

    private static int formatOf(Path segmentFile) {
        try {
            byte[] header = new byte[LogFormat.SEGMENT_HEADER_SIZE];
            try (var in = Files.newInputStream(segmentFile)) {
                in.readNBytes(header, 0, header.length);
            }
            return Bytes.getInt(header, 8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void scavengeRewritesAFormatOneSegmentKeepingPositions() throws IOException {
        List<EventData> events = writtenEvents();
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            TestStores.await(store.append("order-9", ExpectedRevision.ANY, TestStores.event("Roll", 15000)));
            ScavengeReport report = TestStores.await(store.scavenge());
            assertThat(report.recordsRemoved()).isPositive();
        }
        assertThat(StoreAdmin.verify(dir).problems()).isEmpty();
        assertThat(formatOf(LogRecovery.segmentFiles(dir.resolve("log")).get(0))).isEqualTo(2);
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            List<RecordedEvent> order3 = TestStores.await(store.readStream("order-3", 0, 0, Direction.FORWARDS));
            assertThat(order3).hasSize(5);
            for (RecordedEvent r : TestStores.await(store.readAll(0, events.size(), Direction.FORWARDS, EventFilter.none()))) {
                if (r.position() < events.size()) {
                    assertSameEvent(r, events.get((int) r.position()));
                }
            }
        }
    }

    @Test
    void verifiesCleanAndTakesNewAppendsAfterTheOldOnes() throws IOException {
        assertThat(StoreAdmin.verify(dir).problems()).isEmpty();
        List<EventData> more = new ArrayList<>();
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            for (int i = 0; i < 400; i++) {
                EventData e = TestStores.event("New", 150);
                more.add(e);
                TestStores.await(store.append("order-1", ExpectedRevision.ANY, e));
            }
        }
        assertThat(StoreAdmin.verify(dir).problems()).isEmpty();
        List<Path> segments = LogRecovery.segmentFiles(dir.resolve("log"));
        assertThat(segments.subList(0, 2)).allSatisfy(f -> assertThat(formatOf(f)).as("old segments stay as written").isEqualTo(1));
        assertThat(segments.subList(2, segments.size())).isNotEmpty()
            .allSatisfy(f -> assertThat(formatOf(f)).as("new segments are format 2").isEqualTo(2));
        Path backup = TempDirs.create("v1-backup");
        try {
            StoreAdmin.BackupReport report = StoreAdmin.backup(dir, backup.resolve("b"));
            assertThat(report.head()).isEqualTo(writtenEvents().size() + 1 + more.size());
            assertThat(StoreAdmin.verify(backup.resolve("b")).problems()).isEmpty();
        } finally {
            TempDirs.delete(backup);
        }
        List<EventData> events = writtenEvents();
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            List<RecordedEvent> all = TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()));
            assertThat(all).hasSize(events.size() + 1 + more.size());
            assertSameEvent(all.get(0), events.get(0));
            for (int i = 0; i < more.size(); i++) {
                assertSameEvent(all.get(events.size() + 1 + i), more.get(i));
            }
            List<RecordedEvent> order1 = TestStores.await(store.readStream("order-1", 0, 0, Direction.FORWARDS));
            assertSameEvent(order1.get(order1.size() - 1), more.get(more.size() - 1));
        }
    }
}
