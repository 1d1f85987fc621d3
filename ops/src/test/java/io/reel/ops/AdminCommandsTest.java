package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.Durability;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.StoreSettings;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The admin verbs on real data directories: exit codes, what they print, and what they do to the files. */
@Timeout(90)
class AdminCommandsTest {
    private static final StoreSettings SMALL_SEGMENTS = StoreSettings.builder().segmentSize(64 * 1024).maxEventSize(8 * 1024).build();

    @TempDir
    Path dir;

    @Test
    void backupDuringLoadRestoresToAStoreWithTheSameEventsUpToItsHead() throws Exception {
        Path data = dir.resolve("data");
        Path backup = dir.resolve("backup");
        Path restored = dir.resolve("restored");
        AtomicBoolean loading = new AtomicBoolean(true);
        AtomicLong acknowledged = new AtomicLong();
        try (EventStore store = EventStore.open(data, StoreSettings.builder().segmentSize(256 * 1024).maxEventSize(8 * 1024)
            .durability(Durability.batched(Duration.ofMillis(2))).build())) {
            Stores.append(store, "warm-up", 3000, 100);
            Thread load = new Thread(() -> {
                int i = 0;
                while (loading.get()) {
                    Stores.append(store, "order-" + (i++ % 7), 10, 10);
                    acknowledged.set(store.headPosition());
                }
            }, "backup-load");
            load.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.get() >= 4000);
            Cli.Result backedUp = Cli.run("backup", "--data", data.toString(), "--to", backup.toString());
            long headDuringBackup = store.headPosition();
            await().atMost(Duration.ofSeconds(30)).until(() -> store.headPosition() > headDuringBackup);
            loading.set(false);
            load.join(30_000);
            long finalHead = store.headPosition();

            assertThat(backedUp.exitCode()).as(backedUp.toString()).isZero();
            long backupHead = number(backedUp.out(), "head\\s+(\\d+)");
            assertThat(backupHead).as("the backup was taken while appends went on").isGreaterThanOrEqualTo(4000).isLessThan(finalHead);
            assertThat(headDuringBackup).isGreaterThanOrEqualTo(backupHead);

            Cli.Result restore = Cli.run("restore", "--from", backup.toString(), "--data", restored.toString());
            assertThat(restore.exitCode()).as(restore.toString()).isZero();
            assertThat(restore.out()).contains("verified clean");
            Cli.Result verify = Cli.run("verify", "--data", restored.toString());
            assertThat(verify.exitCode()).as(verify.toString()).isZero();
            assertThat(verify.out()).contains("events    " + backupHead).endsWith("clean" + System.lineSeparator());

            List<RecordedEvent> original = Stores.readAll(store);
            try (EventStore copy = EventStore.open(restored, SMALL_SEGMENTS)) {
                assertThat(copy.headPosition()).isEqualTo(backupHead);
                List<RecordedEvent> events = Stores.readAll(copy);
                assertThat(events).hasSize((int) backupHead);
                for (int i = 0; i < events.size(); i++) {
                    RecordedEvent a = original.get(i);
                    RecordedEvent b = events.get(i);
                    assertThat(b.position()).isEqualTo(a.position());
                    assertThat(b.eventId()).isEqualTo(a.eventId());
                    assertThat(b.stream()).isEqualTo(a.stream());
                    assertThat(b.revision()).isEqualTo(a.revision());
                    assertThat(b.data()).isEqualTo(a.data());
                }
                assertThat(copy.readStream("order-3", 0, 0, io.reel.store.Direction.FORWARDS).count().block())
                    .isEqualTo(original.stream().filter(e -> e.stream().equals("order-3") && e.position() < backupHead).count());
                Stores.append(copy, "after-restore", 1, 1);
                assertThat(copy.headPosition()).isEqualTo(backupHead + 1);
            }
        }
    }

    @Test
    void verifyFindsDamageAndNamesFileOffsetAndPosition() throws Exception {
        Path data = dir.resolve("data");
        try (EventStore store = EventStore.open(data, SMALL_SEGMENTS)) {
            Stores.append(store, "order-1", 6000, 200);
        }
        Cli.Result clean = Cli.run("verify", "--data", data.toString());
        assertThat(clean.exitCode()).as(clean.toString()).isZero();
        assertThat(clean.out()).contains("events    6000").contains("clean");
        long segments = number(clean.out(), "segments\\s+(\\d+)");
        assertThat(segments).as("several segments, the first sealed").isGreaterThan(1);

        Path first;
        try (Stream<Path> files = Files.list(data.resolve("log"))) {
            first = files.filter(f -> f.getFileName().toString().endsWith(".seg")).sorted().findFirst().orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(first.toFile(), "rw")) {
            f.seek(5000);
            int b = f.read();
            f.seek(5000);
            f.write(b ^ 0x5A);
        }
        Cli.Result damaged = Cli.run("verify", "--data", data.toString());
        assertThat(damaged.exitCode()).as(damaged.toString()).isEqualTo(1);
        assertThat(damaged.out()).contains("DAMAGE: ").contains("file log/" + first.getFileName()).containsPattern("offset \\d+ +position \\d+");
    }

    @Test
    void statsAndScavengeReportWhatTheyFindAndDo() throws java.io.IOException {
        Path data = dir.resolve("data");
        try (EventStore store = EventStore.open(data, SMALL_SEGMENTS)) {
            Stores.append(store, "temporary", 3000, 100);
            store.deleteStream("temporary", ExpectedRevision.ANY, true).block(Duration.ofSeconds(10));
            Stores.append(store, "kept", 3000, 100);
        }
        Cli.Result stats = Cli.run("stats", "--data", data.toString());
        assertThat(stats.exitCode()).as(stats.toString()).isZero();
        assertThat(stats.out()).contains("head         6001").contains("in use by    nobody");

        Cli.Result scavenge = Cli.run("scavenge", "--data", data.toString());
        assertThat(scavenge.exitCode()).as(scavenge.toString()).isZero();
        assertThat(number(scavenge.out(), "records removed\\s+(\\d+)")).isPositive();
        assertThat(number(scavenge.out(), "bytes reclaimed\\s+(\\d+)")).isPositive();
        Cli.Result verify = Cli.run("verify", "--data", data.toString());
        assertThat(verify.exitCode()).as(verify.toString()).isZero();

        // a cluster node's directory (it has a raft directory) is not scavenged: its log must stay the others'
        java.nio.file.Files.createDirectories(data.resolve("raft"));
        Cli.Result refused = Cli.run("scavenge", "--data", data.toString());
        assertThat(refused.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(refused.err()).startsWith("error: INVALID_ARGUMENT: ").contains("cluster node");
    }

    @Test
    void aDirectoryInUseIsRefusedWithLockedAndWhatToDo() {
        Path data = dir.resolve("data");
        try (EventStore store = EventStore.open(data, SMALL_SEGMENTS)) {
            Stores.append(store, "x", 1, 1);
            Cli.Result scavenge = Cli.run("scavenge", "--data", data.toString());
            assertThat(scavenge.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
            assertThat(scavenge.err()).startsWith("error: LOCKED: ").contains("stop that process");
            Cli.Result stats = Cli.run("stats", "--data", data.toString());
            assertThat(stats.exitCode()).as("stats reads beside the owner").isZero();
            assertThat(stats.out()).doesNotContain("in use by    nobody");
        }
    }

    @Test
    void anInterruptedOrChangedBackupIsRefusedByRestore() throws Exception {
        Path data = dir.resolve("data");
        try (EventStore store = EventStore.open(data, SMALL_SEGMENTS)) {
            Stores.append(store, "order", 2000, 10);
        }
        Path backup = dir.resolve("backup");
        assertThat(Cli.run("backup", "--data", data.toString(), "--to", backup.toString()).exitCode()).isZero();
        assertThat(backup.resolve(io.reel.store.StoreAdmin.BACKUP_MANIFEST)).exists();

        // interrupted while its segments were copied: neither the durable point written after the last one nor the manifest
        Path interrupted = dir.resolve("interrupted");
        copyTree(backup, interrupted);
        Files.delete(interrupted.resolve(io.reel.store.StoreAdmin.BACKUP_MANIFEST));
        Files.delete(interrupted.resolve("log").resolve("durable.chk"));
        Cli.Result refused = Cli.run("restore", "--from", interrupted.toString(), "--data", dir.resolve("r1").toString());
        assertThat(refused.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(refused.err()).startsWith("error: INVALID_ARGUMENT: ").contains("incomplete backup").contains("take the backup again");

        // made before manifests (or cut after its log was whole): the durable point tells the head
        Path legacy = dir.resolve("legacy");
        copyTree(backup, legacy);
        Files.delete(legacy.resolve(io.reel.store.StoreAdmin.BACKUP_MANIFEST));
        Cli.Result fromLegacy = Cli.run("restore", "--from", legacy.toString(), "--data", dir.resolve("r0").toString());
        assertThat(fromLegacy.exitCode()).as(fromLegacy.toString()).isZero();

        // changed: its last segment is gone, so the restored log would end before the recorded head (and verify clean)
        Path shortened = dir.resolve("shortened");
        copyTree(backup, shortened);
        List<Path> segments;
        try (Stream<Path> files = Files.list(shortened.resolve("log"))) {
            segments = files.filter(f -> f.getFileName().toString().endsWith(".seg")).sorted().toList();
        }
        assertThat(segments).hasSizeGreaterThan(1);
        Files.delete(segments.get(segments.size() - 1));
        Cli.Result mismatch = Cli.run("restore", "--from", shortened.toString(), "--data", dir.resolve("r2").toString());
        assertThat(mismatch.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(mismatch.err()).contains("error: CORRUPTED: ").contains("recorded head 2000");

        Cli.Result restored = Cli.run("restore", "--from", backup.toString(), "--data", dir.resolve("r3").toString());
        assertThat(restored.exitCode()).as(restored.toString()).isZero();
        assertThat(dir.resolve("r3").resolve(io.reel.store.StoreAdmin.BACKUP_MANIFEST)).doesNotExist();
    }

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    @Test
    void badCommandLinesExitWithTwoAndMissingDirectoriesWithThree() {
        Cli.Result unknown = Cli.run("frobnicate");
        assertThat(unknown.exitCode()).isEqualTo(ReelCommand.ExitCodes.USAGE);
        assertThat(unknown.err()).contains("frobnicate");
        Cli.Result missingFlag = Cli.run("verify");
        assertThat(missingFlag.exitCode()).isEqualTo(ReelCommand.ExitCodes.USAGE);
        assertThat(missingFlag.err()).contains("--data");
        Cli.Result badDurability = Cli.run("server", "--durability", "sometimes");
        assertThat(badDurability.exitCode()).isEqualTo(ReelCommand.ExitCodes.USAGE);
        assertThat(badDurability.err()).contains("'fsync' or 'batched:MS'");
        Cli.Result badSize = Cli.run("server", "--segment-size", "huge");
        assertThat(badSize.exitCode()).isEqualTo(ReelCommand.ExitCodes.USAGE);
        assertThat(badSize.err()).contains("64k, 256m or 1g");
        Cli.Result missingDir = Cli.run("verify", "--data", dir.resolve("nothing-here").toString());
        assertThat(missingDir.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(missingDir.err()).startsWith("error: INVALID_ARGUMENT: ").contains("does not exist");
        Cli.Result notEmpty = Cli.run("restore", "--from", dir.resolve("nothing-here").toString(), "--data", dir.toString());
        assertThat(notEmpty.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        Cli.Result help = Cli.run("backup", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("--data").contains("--to");
    }

    @Test
    void benchRunsAWorkloadAndListsTheWorkloadsForAnUnknownName() {
        Cli.Result bench = Cli.run("bench", "append", "--events", "2000", "--batch", "100", "--durability", "batched:5", "--json",
            "--data", dir.resolve("bench").toString());
        assertThat(bench.exitCode()).as(bench.toString()).isZero();
        java.util.Map<String, Object> result = HttpEndpointTest.object(bench.out().trim());
        assertThat(result.get("workload")).isEqualTo("append");
        assertThat(((Number) result.get("events")).longValue()).isEqualTo(2000);
        assertThat(result).containsKey("events_per_sec");
        Cli.Result unknown = Cli.run("bench", "teleport");
        assertThat(unknown.exitCode()).isEqualTo(ReelCommand.ExitCodes.USAGE);
        assertThat(unknown.err()).contains("append, read, read-stream, subscribe");
    }

    @Test
    void benchCommandReportsAParkingAndASpinningCaller() {
        Cli.Result bench = Cli.run("bench", "command", "--events", "400", "--durability", "batched:5", "--json",
            "--data", dir.resolve("bench").toString());
        assertThat(bench.exitCode()).as(bench.toString()).isZero();
        java.util.Map<String, Object> result = HttpEndpointTest.object(bench.out().trim());
        assertThat(result.get("workload")).isEqualTo("command");
        assertThat(((Number) result.get("events")).longValue()).isEqualTo(400);
        for (String field : List.of("p50_us", "append_p50_us", "floor_force_p50_us", "spinning_caller_append_p50_us",
            "spinning_caller_command_p50_us")) {
            assertThat(((Number) result.get(field)).doubleValue()).as(field).isPositive();
        }
    }

    private static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new AssertionError("no match for " + regex + " in:\n" + text);
        }
        return Long.parseLong(m.group(1));
    }
}
