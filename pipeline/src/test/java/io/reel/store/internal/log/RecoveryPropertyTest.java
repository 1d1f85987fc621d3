package io.reel.store.internal.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reel.store.AppendResult;
import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StoreAdmin;
import io.reel.store.StoreSettings;
import io.reel.store.TempDirs;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Recovery against the durability contract: after N acknowledged appends, whatever happens past the last
 * durable point (a torn write cut at any byte, any byte damaged) reopens to exactly the acknowledged events
 * plus whole appends only; damage to acknowledged bytes is a loud error, and repair reports what was lost.
 */
class RecoveryPropertyTest {
    private static final StoreSettings SETTINGS = StoreSettings.builder().segmentSize(1 << 20).maxEventSize(4096).build();

    /** One acknowledged event, as the test remembers it. */
    record Written(long position, String stream, long revision, java.util.UUID id, byte[] data) {
    }

    private static List<List<Written>> appendRandom(EventStore store, Random random, int appends) {
        List<List<Written>> all = new ArrayList<>();
        for (int a = 0; a < appends; a++) {
            String stream = "s-" + random.nextInt(5);
            int n = 1 + random.nextInt(4);
            List<EventData> events = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] data = new byte[random.nextInt(200)];
                random.nextBytes(data);
                events.add(EventData.of("T" + random.nextInt(3), data));
            }
            AppendResult r = store.append(stream, ExpectedRevision.ANY, events).block();
            List<Written> written = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                written.add(new Written(r.firstPosition() + i, stream, r.nextExpectedRevision() - n + 1 + i, events.get(i).eventId(),
                    events.get(i).data()));
            }
            all.add(written);
        }
        return all;
    }

    private static Path activeSegment(Path dir) throws Exception {
        List<Path> files = LogRecovery.segmentFiles(dir.resolve("log"));
        return files.get(files.size() - 1);
    }

    private static long dataEnd(Path segmentFile) throws Exception {
        Segment s = Segment.open(segmentFile, false);
        try {
            return SegmentScan.scan(s, s.size(), Long.MAX_VALUE, false, false).dataEnd;
        } finally {
            s.release();
        }
    }

    private static void assertHolds(EventStore store, List<Written> expected) {
        List<RecordedEvent> all = store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).collectList().block();
        assertThat(all).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            Written w = expected.get(i);
            RecordedEvent r = all.get(i);
            assertThat(r.position()).isEqualTo(w.position());
            assertThat(r.stream()).isEqualTo(w.stream());
            assertThat(r.revision()).isEqualTo(w.revision());
            assertThat(r.eventId()).isEqualTo(w.id());
            assertThat(r.data()).isEqualTo(w.data());
        }
    }

    @net.jqwik.api.Example
    void aRollInterruptedBeforeSealingIsSealedOnOpen() throws Exception {
        Path dir = TempDirs.create("reel-roll");
        try {
            StoreSettings small = StoreSettings.builder().segmentSize(256 * 1024).maxEventSize(4096).build();
            List<Written> written = new ArrayList<>();
            try (EventStore store = EventStore.open(dir, small)) {
                appendRandom(store, new Random(7), 2000).forEach(written::addAll);
            }
            List<Path> files = LogRecovery.segmentFiles(dir.resolve("log"));
            assertThat(files).as("the appends rolled the log").hasSizeGreaterThan(1);
            Path previous = files.get(files.size() - 2);
            long dataEnd = Files.size(previous);
            // the state a crash between creating the next segment and sealing this one leaves: the
            // preallocated zeros after the data are still there
            try (FileChannel ch = FileChannel.open(previous, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(1), 256 * 1024 - 1);
            }
            StoreAdmin.VerifyReport report = StoreAdmin.verify(dir);
            assertThat(report.problems()).as("not damage: nothing acknowledged is affected").isEmpty();
            assertThat(report.notes()).anySatisfy(note -> assertThat(note).contains(previous.getFileName().toString())
                .contains("the next open seals it"));
            try (EventStore store = EventStore.open(dir, small)) {
                assertHolds(store, written);
            }
            assertThat(Files.size(previous)).as("sealed again at its data's end").isEqualTo(dataEnd);
        } finally {
            TempDirs.delete(dir);
        }
    }

    @Property(tries = 40)
    void tornTailPastTheDurablePointIsCut(@ForAll long seed, @ForAll @IntRange(min = 0, max = 1000) int cutPermille,
                                          @ForAll boolean alsoDamage) throws Exception {
        Path dir = TempDirs.create("reel-recovery");
        try {
            Random random = new Random(seed);
            List<Written> acknowledged = new ArrayList<>();
            try (EventStore store = EventStore.open(dir, SETTINGS)) {
                appendRandom(store, random, 1 + random.nextInt(20)).forEach(acknowledged::addAll);
            }
            Path durable = dir.resolve("log").resolve(DurablePoint.FILE_NAME);
            byte[] durableAtAcknowledged = Files.readAllBytes(durable);
            Path active = activeSegment(dir);
            long endAcknowledged = dataEnd(active);
            List<List<Written>> inFlight;
            try (EventStore store = EventStore.open(dir, SETTINGS)) {
                inFlight = appendRandom(store, random, 1 + random.nextInt(8));
            }
            long endInFlight = dataEnd(active);
            // the crash: the in-flight write reached the disk only up to a random byte, and the durable point
            // never moved past the acknowledged appends
            Files.write(durable, durableAtAcknowledged);
            long cut = endAcknowledged + (endInFlight - endAcknowledged) * cutPermille / 1000;
            try (FileChannel ch = FileChannel.open(active, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate((int) (endInFlight - cut)), cut);
                if (alsoDamage && cut > endAcknowledged) {
                    long at = endAcknowledged + random.nextLong(cut - endAcknowledged);
                    ByteBuffer one = ByteBuffer.allocate(1);
                    ch.read(one, at);
                    one.put(0, (byte) (one.get(0) ^ (1 + random.nextInt(255)))).rewind();
                    ch.write(one, at);
                }
            }
            try (EventStore store = EventStore.open(dir, SETTINGS)) {
                List<RecordedEvent> all = store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).collectList().block();
                assertThat(all.size()).isGreaterThanOrEqualTo(acknowledged.size());
                List<Written> expected = new ArrayList<>(acknowledged);
                int kept = all.size() - acknowledged.size();
                int wholeAppends = 0;
                for (List<Written> append : inFlight) {
                    if (kept >= append.size()) {
                        expected.addAll(append);
                        kept -= append.size();
                        wholeAppends++;
                    } else {
                        break;
                    }
                }
                assertThat(kept).as("only whole in-flight appends survive").isZero();
                assertHolds(store, expected);
                AppendResult next = store.append("after", ExpectedRevision.NO_STREAM, EventData.of("T", new byte[1])).block();
                assertThat(next.firstPosition()).isEqualTo(expected.size());
                assertThat(wholeAppends).isLessThanOrEqualTo(inFlight.size());
            }
        } finally {
            TempDirs.delete(dir);
        }
    }

    @Property(tries = 30)
    void damageToAcknowledgedDataIsALoudErrorAndRepairCountsTheLoss(@ForAll long seed) throws Exception {
        Path dir = TempDirs.create("reel-damage");
        try {
            Random random = new Random(seed);
            List<Written> acknowledged = new ArrayList<>();
            try (EventStore store = EventStore.open(dir, SETTINGS)) {
                appendRandom(store, random, 2 + random.nextInt(20)).forEach(acknowledged::addAll);
            }
            Path active = activeSegment(dir);
            long end = dataEnd(active);
            long at = LogFormat.SEGMENT_HEADER_SIZE + random.nextLong(end - LogFormat.SEGMENT_HEADER_SIZE);
            try (FileChannel ch = FileChannel.open(active, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer one = ByteBuffer.allocate(1);
                ch.read(one, at);
                one.put(0, (byte) (one.get(0) ^ (1 + random.nextInt(255)))).rewind();
                ch.write(one, at);
            }
            assertThatThrownBy(() -> EventStore.open(dir, SETTINGS))
                .isInstanceOfSatisfying(ReelException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTED);
                    assertThat(e.getMessage()).contains(active.getFileName().toString()).contains("offset").contains("position");
                });
            try (EventStore store = EventStore.open(dir, SETTINGS.toBuilder().repair(true).build())) {
                EventStore.RecoveryReport report = store.recovery();
                assertThat(report.lostEvents()).isPositive();
                assertThat(report.repairs()).isNotEmpty();
                List<RecordedEvent> all = store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).collectList().block();
                assertThat(all.size()).isEqualTo(acknowledged.size() - report.lostEvents());
                for (RecordedEvent r : all) {
                    Written w = acknowledged.get((int) r.position());
                    assertThat(r.eventId()).isEqualTo(w.id());
                    assertThat(r.data()).isEqualTo(w.data());
                }
                assertThat(store.headPosition()).isEqualTo(acknowledged.size());
                AppendResult next = store.append("after", ExpectedRevision.NO_STREAM, EventData.of("T", new byte[1])).block();
                assertThat(next.firstPosition()).isEqualTo(acknowledged.size());
            }
            assertThat(Files.list(dir.resolve("quarantine")).count()).isEqualTo(1);
            try (EventStore store = EventStore.open(dir, SETTINGS)) {
                assertThat(store.headPosition()).isEqualTo(acknowledged.size() + 1);
            }
        } finally {
            TempDirs.delete(dir);
        }
    }
}
