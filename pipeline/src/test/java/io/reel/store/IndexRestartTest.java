package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.reel.store.internal.index.StreamIndex;
import io.reel.store.internal.log.Bytes;
import io.reel.store.internal.log.Crc;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.LogRecovery;
import io.reel.store.internal.log.OffsetIndex;
import io.reel.store.internal.log.Segment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The derived files (log/*.idx offset indexes, index/streams.chk) are rebuilt when missing or damaged, and
 * reads return exactly what they returned before; a stream index checkpoint older than the log makes the
 * indexer replay only the tail past it.
 */
@Timeout(60)
class IndexRestartTest {
    private static final List<String> STREAMS = List.of("order-0", "order-1", "order-2", "order-3", "order-4", "soft", "hard", "capped",
        "truncated", "aged", "$$soft", "$$hard", "never-written");

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T00:00:00Z"));

    private StoreSettings settings(long indexCheckpointEvents) {
        // no recent-records cache: every read goes to the files and their offset indexes
        return TestStores.small().clock(clock).recentCacheBytes(0).indexCheckpointEvents(indexCheckpointEvents).build();
    }

    /** A store of several segments with every kind of stream state: plain, soft- and hard-deleted, capped, truncated, aged. */
    private void populate(EventStore store, Random random, int events) {
        for (int i = 0; i < events; i++) {
            String stream = "order-" + random.nextInt(5);
            TestStores.await(store.append(stream, ExpectedRevision.ANY, TestStores.event("T" + random.nextInt(3), random.nextInt(900))));
            if (i == events / 4) {
                TestStores.appendMany(store, "soft", "S", 5, 100);
                TestStores.await(store.deleteStream("soft", ExpectedRevision.exactly(4), false));
                TestStores.appendMany(store, "hard", "H", 3, 100);
                TestStores.await(store.deleteStream("hard", ExpectedRevision.ANY, true));
                TestStores.appendMany(store, "capped", "C", 20, 300);
                TestStores.await(store.setStreamMetadata("capped", StreamMetadata.NONE.withMaxCount(4)));
                TestStores.appendMany(store, "truncated", "X", 10, 300);
                TestStores.await(store.setStreamMetadata("truncated", StreamMetadata.NONE.withTruncateBefore(7)));
                TestStores.appendMany(store, "aged", "A", 6, 300);
                TestStores.await(store.setStreamMetadata("aged", StreamMetadata.NONE.withMaxAge(Duration.ofSeconds(60))));
            }
            if (i == events / 2) {
                clock.advance(Duration.ofSeconds(90));
                TestStores.appendMany(store, "soft", "S", 2, 100);
                TestStores.appendMany(store, "aged", "A", 2, 100);
            }
        }
    }

    private void assertOffsetIndexesRebuilt() throws IOException {
        List<Path> segments = LogRecovery.segmentFiles(dir.resolve("log"));
        assertThat(segments.size()).as("segments").isGreaterThan(3);
        for (Path file : segments.subList(0, segments.size() - 1)) {
            Segment segment = Segment.open(file, false);
            try {
                Path idx = dir.resolve("log").resolve(LogFormat.indexFileName(segment.basePosition()));
                OffsetIndex stored = OffsetIndex.load(idx, segment.basePosition(), segment.size());
                assertThat(stored).as("%s was rebuilt and passes its checks", idx.getFileName()).isNotNull();
                OffsetIndex rebuilt = Log.rebuildIndex(segment);
                assertThat(stored.count()).isEqualTo(rebuilt.count());
                assertThat(stored.count()).as("a sparse entry about every %d bytes", OffsetIndex.INTERVAL_BYTES)
                    .isGreaterThanOrEqualTo((int) (segment.size() / (2L * OffsetIndex.INTERVAL_BYTES)));
                for (int i = 0; i < stored.count(); i++) {
                    assertThat(stored.positionAt(i)).isEqualTo(rebuilt.positionAt(i));
                    assertThat(stored.offsetAt(i)).isEqualTo(rebuilt.offsetAt(i));
                }
            } finally {
                segment.release();
            }
        }
    }

    /** Single-record reads at every position: each one starts from an offset-index entry. */
    private static void assertPointReads(EventStore store, ReadSnapshot before) {
        for (String row : before.allForwards()) {
            long position = Long.parseLong(row.substring(0, row.indexOf(' ')));
            List<RecordedEvent> one = TestStores.await(store.readAll(position, 1, Direction.FORWARDS, EventFilter.none()));
            assertThat(ReadSnapshot.rows(one)).containsExactly(row);
            List<RecordedEvent> back = TestStores.await(store.readAll(position, 1, Direction.BACKWARDS, EventFilter.none()));
            assertThat(ReadSnapshot.rows(back)).containsExactly(row);
        }
    }

    enum OffsetIndexDamage { DELETED, EMPTY, TRUNCATED, FLIPPED_BYTE, NEIGHBOUR_COPIED, FROM_BEFORE_SCAVENGE }

    @ParameterizedTest
    @EnumSource(OffsetIndexDamage.class)
    void missingOrDamagedOffsetIndexesAreRebuiltAndReadsStayTheSame(OffsetIndexDamage damage) throws IOException {
        Path log = dir.resolve("log");
        Path saved = dir.resolveSibling(dir.getFileName() + "-saved-idx");
        ReadSnapshot before;
        try (EventStore store = EventStore.open(dir, settings(1_000_000))) {
            populate(store, new Random(damage.ordinal()), 600);
            if (damage == OffsetIndexDamage.FROM_BEFORE_SCAVENGE) {
                Files.createDirectories(saved);
                await().atMost(Duration.ofSeconds(10)).until(() -> TestStores.files(log, "*.idx").size() == store.info().segments() - 1);
                for (Path idx : TestStores.files(log, "*.idx")) {
                    Files.copy(idx, saved.resolve(idx.getFileName()));
                }
                assertThat(TestStores.await(store.scavenge()).segmentsRewritten()).isPositive();
            }
            before = ReadSnapshot.take(store, STREAMS);
        }
        List<Path> indexes = TestStores.files(log, "*.idx");
        assertThat(indexes).hasSizeGreaterThan(3);
        for (int i = 0; i < indexes.size(); i++) {
            Path idx = indexes.get(i);
            byte[] b = Files.readAllBytes(idx);
            switch (damage) {
                case DELETED -> Files.delete(idx);
                case EMPTY -> Files.write(idx, new byte[0]);
                case TRUNCATED -> Files.write(idx, java.util.Arrays.copyOf(b, b.length / 2));
                case FLIPPED_BYTE -> {
                    b[48 + (i * 7) % Math.max(1, b.length - 52)] ^= 0x10;
                    Files.write(idx, b);
                }
                case NEIGHBOUR_COPIED -> Files.copy(indexes.get((i + 1) % indexes.size()), idx, StandardCopyOption.REPLACE_EXISTING);
                case FROM_BEFORE_SCAVENGE -> {
                    Path old = saved.resolve(idx.getFileName());
                    if (Files.exists(old)) {
                        Files.copy(old, idx, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        try (EventStore store = EventStore.open(dir, settings(1_000_000))) {
            assertThat(store.recovery().replayedEvents()).as("the stream index checkpoint was intact").isZero();
            ReadSnapshot.take(store, STREAMS).assertSameAs(before);
            assertPointReads(store, before);
        }
        assertOffsetIndexesRebuilt();
        TempDirs.delete(saved);
    }

    /**
     * An index that passes every check on open (checksum, base, data end, increasing entries) but whose entry
     * points inside a frame: the first read that starts from that entry meets a frame that does not check out,
     * rebuilds the index from its segment (which checks every frame, and is sound) and reads again. Every read
     * returns the right records, and the index file on disk is right again afterwards.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {3, 1})
    void aWellFormedButWrongOffsetIndexIsRebuiltFromItsSegment(int shift) throws IOException {
        ReadSnapshot before;
        try (EventStore store = EventStore.open(dir, settings(1_000_000))) {
            TestStores.appendMany(store, "s", "T", 300, 500);
            before = ReadSnapshot.take(store, List.of("s"));
        }
        Path idx = TestStores.files(dir.resolve("log"), "*.idx").get(0);
        byte[] good = Files.readAllBytes(idx);
        byte[] b = good.clone();
        int entries = Bytes.getInt(b, 12);
        assertThat(entries).as("entries of a sealed 64 KiB segment, one per 4 KiB").isGreaterThan(10);
        int at = 48 + (entries / 2) * 8;
        long position = Bytes.getInt(b, at);
        Bytes.putInt(b, at + 4, Bytes.getInt(b, at + 4) + shift);
        Bytes.putInt(b, b.length - 4, Crc.of(b, 0, b.length - 4));
        Files.write(idx, b);
        try (EventStore store = EventStore.open(dir, settings(1_000_000))) {
            List<RecordedEvent> one = TestStores.await(store.readAll(position, 1, Direction.FORWARDS, EventFilter.none()));
            assertThat(one).extracting(RecordedEvent::position).containsExactly(position);
            assertThat(ReadSnapshot.rows(TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()))))
                .containsExactlyElementsOf(before.allForwards());
            ReadSnapshot.take(store, List.of("s")).assertSameAs(before);
        }
        assertThat(Files.readAllBytes(idx)).as("the index file was rewritten from the segment").isEqualTo(good);
    }

    enum CheckpointDamage { DELETED, EMPTY, FLIPPED_BYTE, TRUNCATED, WRONG_VERSION, FROM_THE_FUTURE }

    @ParameterizedTest
    @EnumSource(CheckpointDamage.class)
    void missingOrDamagedStreamIndexCheckpointIsRebuiltFromTheLog(CheckpointDamage damage) throws IOException {
        Path checkpoint = dir.resolve("index").resolve(StreamIndex.CHECKPOINT_FILE);
        ReadSnapshot before;
        long head;
        byte[] future = null;
        try (EventStore store = EventStore.open(dir, settings(1_000_000))) {
            populate(store, new Random(100 + damage.ordinal()), 500);
            before = ReadSnapshot.take(store, STREAMS);
            head = store.headPosition();
        }
        if (damage == CheckpointDamage.FROM_THE_FUTURE) {
            // a checkpoint that covers more than the log: the log was restored from an older backup
            Path later = dir.resolveSibling(dir.getFileName() + "-later");
            copyTree(dir, later);
            try (EventStore store = EventStore.open(later, settings(1_000_000))) {
                TestStores.appendMany(store, "order-9", "T", 50, 50);
            }
            future = Files.readAllBytes(later.resolve("index").resolve(StreamIndex.CHECKPOINT_FILE));
            TempDirs.delete(later);
        }
        byte[] b = Files.readAllBytes(checkpoint);
        switch (damage) {
            case DELETED -> Files.delete(checkpoint);
            case EMPTY -> Files.write(checkpoint, new byte[0]);
            case FLIPPED_BYTE -> {
                b[b.length / 3] ^= 0x01;
                Files.write(checkpoint, b);
            }
            case TRUNCATED -> Files.write(checkpoint, java.util.Arrays.copyOf(b, b.length - 9));
            case WRONG_VERSION -> {
                Bytes.putInt(b, 8, 99);
                Bytes.putInt(b, b.length - 4, Crc.of(b, 0, b.length - 4));
                Files.write(checkpoint, b);
            }
            case FROM_THE_FUTURE -> Files.write(checkpoint, future);
        }
        long finalHead;
        try (EventStore store = EventStore.open(dir, settings(1_000_000))) {
            assertThat(store.recovery().replayedEvents()).as("a rebuild replays the whole log").isEqualTo(head);
            ReadSnapshot.take(store, STREAMS).assertSameAs(before);
            assertStreamStatesSurvived(store);
            finalHead = store.headPosition();
        }
        assertThat(StreamIndex.loadCheckpoint(checkpoint.getParent())).as("a good checkpoint is written again on close").isNotNull()
            .extracting(StreamIndex::indexedUpTo).isEqualTo(finalHead);
    }

    /** Revisions, deletes and metadata come back from the log alone: appends see the same streams. */
    private void assertStreamStatesSurvived(EventStore store) {
        List<RecordedEvent> capped = TestStores.await(store.readStream("capped", 0, 0, Direction.FORWARDS));
        assertThat(capped).extracting(RecordedEvent::revision).containsExactly(16L, 17L, 18L, 19L);
        assertThatThrownBy(() -> TestStores.await(store.append("hard", ExpectedRevision.ANY, TestStores.event("H"))))
            .satisfies(e -> assertThat(TestStores.codeOf(e)).isEqualTo(ErrorCode.STREAM_DELETED));
        assertThat(TestStores.await(store.append("soft", ExpectedRevision.exactly(6), TestStores.event("S"))).nextExpectedRevision())
            .isEqualTo(7);
        assertThat(TestStores.await(store.append("truncated", ExpectedRevision.exactly(9), TestStores.event("X"))).nextExpectedRevision())
            .isEqualTo(10);
    }

    @Test
    void aCheckpointOlderThanTheLogReplaysOnlyTheTail() throws IOException {
        Path checkpoint = dir.resolve("index").resolve(StreamIndex.CHECKPOINT_FILE);
        Random random = new Random(7);
        try (EventStore store = EventStore.open(dir, settings(1_000_000))) {
            populate(store, random, 300);
        }
        byte[] old = Files.readAllBytes(checkpoint);
        long oldUpTo = Bytes.getLong(old, 12);
        ReadSnapshot before;
        long head;
        try (EventStore store = EventStore.open(dir, settings(1_000_000))) {
            assertThat(store.recovery().replayedEvents()).isZero();
            for (int i = 0; i < 200; i++) {
                TestStores.await(store.append("order-" + random.nextInt(7), ExpectedRevision.ANY, TestStores.event("T", random.nextInt(900))));
            }
            TestStores.await(store.deleteStream("order-5", ExpectedRevision.ANY, false));
            TestStores.await(store.setStreamMetadata("order-6", StreamMetadata.NONE.withMaxCount(2)));
            TestStores.await(store.deleteStream("order-0", ExpectedRevision.ANY, true));
            before = ReadSnapshot.take(store, concat(STREAMS, "order-5", "order-6"));
            head = store.headPosition();
        }
        Files.write(checkpoint, old);
        try (EventStore store = EventStore.open(dir, settings(1_000_000))) {
            assertThat(store.recovery().replayedEvents()).as("only the records past the checkpoint").isEqualTo(head - oldUpTo)
                .isLessThan(head);
            ReadSnapshot.take(store, concat(STREAMS, "order-5", "order-6")).assertSameAs(before);
            assertThat(TestStores.await(store.append("order-5", ExpectedRevision.NO_STREAM, TestStores.event("T")))).isNotNull();
        }
    }

    @Test
    void aCrashImageReplaysOnlyWhatFollowsTheLastPeriodicCheckpoint() throws IOException {
        Path image = dir.resolveSibling(dir.getFileName() + "-crash");
        Path checkpoint = dir.resolve("index").resolve(StreamIndex.CHECKPOINT_FILE);
        ReadSnapshot before;
        long head;
        try (EventStore store = EventStore.open(dir, settings(100))) {
            populate(store, new Random(11), 1050);
            head = store.headPosition();
            before = ReadSnapshot.take(store, STREAMS);
            long lastPeriodic = head / 100 * 100;
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(checkpoint) && Bytes.getLong(Files.readAllBytes(checkpoint), 12) == lastPeriodic);
            // the directory as a crash would leave it: the store is still open, nothing was closed or flushed
            copyTree(dir, image);
        }
        long upTo = Bytes.getLong(Files.readAllBytes(image.resolve("index").resolve(StreamIndex.CHECKPOINT_FILE)), 12);
        assertThat(upTo).as("the last periodic checkpoint").isEqualTo(head / 100 * 100).isLessThan(head);
        try (EventStore store = EventStore.open(image, settings(100))) {
            assertThat(store.headPosition()).isEqualTo(head);
            assertThat(store.recovery().replayedEvents()).isEqualTo(head - upTo);
            ReadSnapshot.take(store, STREAMS).assertSameAs(before);
        } finally {
            TempDirs.delete(image);
        }
    }

    private static List<String> concat(List<String> list, String... more) {
        List<String> all = new ArrayList<>(list);
        all.addAll(List.of(more));
        return all;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
