package io.reel.store.internal.log;

import io.reel.store.AppendResult;
import io.reel.store.Direction;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.StoreAdmin;
import io.reel.store.StoreSettings;
import io.reel.store.StreamMetadata;
import io.reel.store.TempDirs;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Format-2 frames in whole data directories, sealed segments included: damage at any byte of any segment is
 * named by {@code verify} (file, offset at or before the damaged byte, a position of that segment) and repair
 * keeps every other acknowledged event where it was; scavenge rewrites frames without moving a surviving
 * position; a backup holds every acknowledged event and its damage is named the same way.
 */
class FrameFilesPropertyTest {
    private static final StoreSettings SETTINGS = StoreSettings.builder().segmentSize(64 * 1024).maxEventSize(16 * 1024).build();
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private static <T> T await(reactor.core.publisher.Mono<T> mono) {
        return mono.block(TIMEOUT);
    }

    private static <T> List<T> await(reactor.core.publisher.Flux<T> flux) {
        return flux.collectList().block(TIMEOUT);
    }

    private static int segmentCount(Path dataDir) {
        try {
            return LogRecovery.segmentFiles(dataDir.resolve("log")).size();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** One acknowledged event as the test remembers it. */
    record Written(long position, String stream, long revision, UUID id, byte[] data) {
    }

    private static List<Written> appendUntilRolled(EventStore store, Random random, int segments) {
        List<Written> written = new ArrayList<>();
        while (segmentCount(store.directory()) < segments) {
            String stream = "s-" + random.nextInt(6);
            int n = 1 + random.nextInt(random.nextBoolean() ? 3 : 40);
            List<EventData> events = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] data = new byte[random.nextInt(300)];
                random.nextBytes(data);
                events.add(EventData.of("T" + random.nextInt(3), data));
            }
            AppendResult r = await(store.append(stream, ExpectedRevision.ANY, events));
            for (int i = 0; i < n; i++) {
                written.add(new Written(r.firstPosition() + i, stream, r.nextExpectedRevision() - n + 1 + i, events.get(i).eventId(),
                    events.get(i).data()));
            }
        }
        return written;
    }

    private static void assertSame(RecordedEvent r, Written w) {
        assertThat(r.position()).isEqualTo(w.position());
        assertThat(r.stream()).isEqualTo(w.stream());
        assertThat(r.revision()).isEqualTo(w.revision());
        assertThat(r.eventId()).isEqualTo(w.id());
        assertThat(r.data()).isEqualTo(w.data());
    }

    /**
     * Flips one byte after the header of a random segment other than the active one that holds data (a scavenge may
     * leave one with a header alone); returns the file and offset, or null when no sealed segment holds data.
     */
    private static Damage damageSealed(Path dataDir, Random random) throws Exception {
        List<Path> files = LogRecovery.segmentFiles(dataDir.resolve("log"));
        List<Path> sealed = new java.util.ArrayList<>();
        for (Path f : files.subList(0, files.size() - 1)) {
            if (Files.size(f) > LogFormat.SEGMENT_HEADER_SIZE) {
                sealed.add(f);
            }
        }
        if (sealed.isEmpty()) {
            return null;
        }
        Path file = sealed.get(random.nextInt(sealed.size()));
        long size = Files.size(file);
        long at = LogFormat.SEGMENT_HEADER_SIZE + random.nextLong(size - LogFormat.SEGMENT_HEADER_SIZE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, at);
            one.put(0, (byte) (one.get(0) ^ (1 + random.nextInt(255)))).rewind();
            ch.write(one, at);
        }
        long base = LogFormat.baseOf(file);
        long nextBase = LogFormat.baseOf(files.get(files.indexOf(file) + 1));
        return new Damage(file, at, base, nextBase);
    }

    record Damage(Path file, long offset, long base, long nextBase) {
    }

    private static void assertNamed(StoreAdmin.VerifyReport report, Damage d) {
        assertThat(report.problems()).as("verify names the damage %s: %s", d, report).isNotEmpty();
        assertThat(report.problems()).anySatisfy(p -> {
            assertThat(p.file().getFileName()).isEqualTo(d.file().getFileName());
            assertThat(p.offset()).isBetween((long) LogFormat.SEGMENT_HEADER_SIZE, d.offset());
            assertThat(p.position()).isBetween(d.base(), d.nextBase());
        });
    }

    @Property(tries = 25)
    void damageInASealedSegmentIsNamedAndRepairKeepsEveryOtherEvent(@ForAll long seed) throws Exception {
        Path dir = TempDirs.create("v2-sealed");
        try {
            Random random = new Random(seed);
            List<Written> acknowledged;
            try (EventStore store = EventStore.open(dir, SETTINGS)) {
                acknowledged = appendUntilRolled(store, random, 3 + random.nextInt(2));
            }
            assertThat(StoreAdmin.verify(dir).problems()).isEmpty();
            Damage damage = damageSealed(dir, random);
            assertNamed(StoreAdmin.verify(dir), damage);
            try (EventStore store = EventStore.open(dir, SETTINGS.toBuilder().repair(true).build())) {
                EventStore.RecoveryReport report = store.recovery();
                assertThat(report.lostEvents()).isPositive();
                assertThat(report.repairs()).anySatisfy(r -> assertThat(r).contains(damage.file().getFileName().toString()));
                List<RecordedEvent> all = await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()));
                assertThat(all).hasSize((int) (acknowledged.size() - report.lostEvents()));
                for (RecordedEvent r : all) {
                    assertSame(r, acknowledged.get((int) r.position()));
                }
                long keptOutside = all.stream().filter(r -> r.position() < damage.base() || r.position() >= damage.nextBase()).count();
                long outside = acknowledged.stream().filter(w -> w.position() < damage.base() || w.position() >= damage.nextBase()).count();
                assertThat(keptOutside).as("only the damaged segment loses events").isEqualTo(outside);
                assertThat(store.headPosition()).isEqualTo(acknowledged.size());
            }
            assertThat(StoreAdmin.verify(dir).problems()).isEmpty();
        } finally {
            TempDirs.delete(dir);
        }
    }

    @Property(tries = 15)
    void scavengeRewritesFramesWithoutMovingAPosition(@ForAll long seed) throws Exception {
        Path dir = TempDirs.create("v2-scavenge");
        try {
            Random random = new Random(seed);
            List<Written> acknowledged;
            Map<String, List<RecordedEvent>> before = new HashMap<>();
            try (EventStore store = EventStore.open(dir, SETTINGS)) {
                acknowledged = appendUntilRolled(store, random, 3 + random.nextInt(3));
                for (int s = 0; s < 6; s++) {
                    if (random.nextBoolean()) {
                        await(store.setStreamMetadata("s-" + s, StreamMetadata.NONE.withMaxCount(1 + random.nextInt(30))));
                    }
                }
                for (int s = 0; s < 6; s++) {
                    before.put("s-" + s, await(store.readStream("s-" + s, 0, 0, Direction.FORWARDS)));
                }
                await(store.scavenge());
            }
            assertThat(StoreAdmin.verify(dir).problems()).isEmpty();
            try (EventStore store = EventStore.open(dir, SETTINGS)) {
                for (int s = 0; s < 6; s++) {
                    List<RecordedEvent> after = await(store.readStream("s-" + s, 0, 0, Direction.FORWARDS));
                    List<RecordedEvent> expected = before.get("s-" + s);
                    assertThat(after).hasSameSizeAs(expected);
                    for (int i = 0; i < after.size(); i++) {
                        assertSame(after.get(i), acknowledged.get((int) expected.get(i).position()));
                    }
                }
                long previous = -1;
                for (RecordedEvent r : await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()))) {
                    assertThat(r.position()).isGreaterThan(previous);
                    previous = r.position();
                    if (r.position() < acknowledged.size()) {
                        assertSame(r, acknowledged.get((int) r.position()));
                    }
                }
            }
            if (LogRecovery.segmentFiles(dir.resolve("log")).size() > 1) {
                Damage damage = damageSealed(dir, random);
                if (damage != null) {   // every sealed segment may have been scavenged down to its header
                    assertNamed(StoreAdmin.verify(dir), damage);
                }
            }
        } finally {
            TempDirs.delete(dir);
        }
    }

    @Property(tries = 15)
    void aBackupHoldsEveryAcknowledgedEventAndItsDamageIsNamed(@ForAll long seed) throws Exception {
        Path dir = TempDirs.create("v2-backup");
        Path backups = TempDirs.create("v2-backups");
        try {
            Random random = new Random(seed);
            List<Written> acknowledged;
            Path backup = backups.resolve("b");
            try (EventStore store = EventStore.open(dir, SETTINGS)) {
                acknowledged = appendUntilRolled(store, random, 2 + random.nextInt(3));
                StoreAdmin.BackupReport report = StoreAdmin.backup(dir, backup);
                assertThat(report.head()).isEqualTo(acknowledged.size());
            }
            assertThat(StoreAdmin.verify(backup).problems()).isEmpty();
            Path restored = backups.resolve("r");
            StoreAdmin.restore(backup, restored);
            try (EventStore store = EventStore.open(restored, SETTINGS)) {
                List<RecordedEvent> all = await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()));
                assertThat(all).hasSameSizeAs(acknowledged);
                for (int i = 0; i < all.size(); i++) {
                    assertSame(all.get(i), acknowledged.get(i));
                }
            }
            Damage damage = damageSealed(backup, random);
            assertNamed(StoreAdmin.verify(backup), damage);
        } finally {
            TempDirs.delete(dir);
            TempDirs.delete(backups);
        }
    }
}
