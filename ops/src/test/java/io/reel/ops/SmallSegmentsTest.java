package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --segment-size 1m --max-event-size 256k}: the small segments people use in tests and on small disks,
 * through the server and every admin verb, over many segments; and the limits checked against each other.
 */
@Timeout(120)
class SmallSegmentsTest {
    private static final long SEGMENT = 1024 * 1024;
    private static final long MAX_EVENT = 256 * 1024;

    @TempDir
    Path dir;

    @Test
    void aSegmentSmallerThanTheLargestEventIsRefusedNamingBothFlagsAndTheValuesThatWork() {
        Cli.Result refused = Cli.run("server", "--data", dir.resolve("data").toString(), "--segment-size", "1m");
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(refused.err()).startsWith("error: INVALID_ARGUMENT: --segment-size 1m cannot hold one event of --max-event-size 1m")
            .contains("give --segment-size 1028k or more, or --max-event-size 1020k or less");
        assertThat(dir.resolve("data")).as("nothing opened").doesNotExist();

        Cli.Result tooBig = Cli.run("server", "--data", dir.resolve("data").toString(), "--max-event-size", "20m", "--segment-size", "1g");
        assertThat(tooBig.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(tooBig.err()).contains("--max-event-size 20m is out of range").contains("between 1 and 16320k");

        Cli.Result noEvents = Cli.run("server", "--data", dir.resolve("data").toString(), "--max-events-per-append", "0");
        assertThat(noEvents.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(noEvents.err()).contains("give --max-events-per-append 1 or more");

        Cli.Result badSyntax = Cli.run("server", "--max-event-size", "lots");
        assertThat(badSyntax.exitCode()).isEqualTo(ReelCommand.ExitCodes.USAGE);
        assertThat(badSyntax.err()).contains("64k, 256m or 1g");
    }

    @Test
    void theSmallestValidSegmentNamedInTheErrorIsAccepted() {
        ServerLimits.check(1028 * 1024, 1024 * 1024, 1);
        assertThatThrownBy(() -> ServerLimits.check(1027 * 1024, 1024 * 1024, 1)).isInstanceOf(ReelException.class);
        ServerLimits.check(1024 * 1024, 1020 * 1024, 1);
        assertThatThrownBy(() -> ServerLimits.check(1024 * 1024, 1021 * 1024, 1)).isInstanceOf(ReelException.class);
    }

    @Test
    void oneMegabyteSegmentsWorkThroughTheServerVerifyBackupRestoreAndScavenge() {
        Path data = dir.resolve("data");
        ServerRuntime.Config config = new ServerRuntime.Config(data, "127.0.0.1", 0, 0, 0, Durability.batched(Duration.ofMillis(2)), SEGMENT,
            null, null, null, false, MAX_EVENT, 100, StoreSettings.Compression.NONE, null);
        byte[] large = new byte[(int) MAX_EVENT - 100];
        try (ServerRuntime server = ServerRuntime.start(config)) {
            EventStore store = server.store();
            for (int i = 0; i < 40; i++) {
                append(store, "blob-" + (i % 4), EventData.of("Blob", large));
                List<EventData> small = new ArrayList<>();
                for (int j = 0; j < 50; j++) {
                    small.add(EventData.json("Ticked", "{\"n\":" + j + "}"));
                }
                append(store, "tick-" + (i % 3), small.toArray(EventData[]::new));
            }
            assertThatThrownBy(() -> append(store, "blob-0", EventData.of("Blob", new byte[(int) MAX_EVENT + 1])))
                .isInstanceOf(ReelException.class).hasMessageContaining("TOO_LARGE").hasMessageContaining("maxEventSize");
            EventData[] tooMany = Stream.generate(() -> EventData.json("Ticked", "{}")).limit(101).toArray(EventData[]::new);
            assertThatThrownBy(() -> append(store, "tick-0", tooMany))
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TOO_LARGE));
            store.deleteStream("blob-1", ExpectedRevision.ANY, true).block(Duration.ofSeconds(10));
            store.deleteStream("blob-2", ExpectedRevision.ANY, false).block(Duration.ofSeconds(10));
        }
        long segments = segmentFiles(data);
        assertThat(segments).as("many 1 MiB segments").isGreaterThanOrEqualTo(8);

        Cli.Result verify = Cli.run("verify", "--data", data.toString());
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains("segments  " + segments).contains("events    2042 (head 2042)");

        Path backup = dir.resolve("backup");
        Path restored = dir.resolve("restored");
        Cli.Result backedUp = Cli.run("backup", "--data", data.toString(), "--to", backup.toString());
        assertThat(backedUp.exitCode()).as(backedUp.toString()).isZero();
        assertThat(backedUp.out()).contains("head      2042");
        Cli.Result restore = Cli.run("restore", "--from", backup.toString(), "--data", restored.toString());
        assertThat(restore.exitCode()).as(restore.toString()).isZero();
        assertThat(restore.out()).contains("verified clean");

        Cli.Result scavenge = Cli.run("scavenge", "--data", restored.toString());
        assertThat(scavenge.exitCode()).as(scavenge.toString()).isZero();
        assertThat(scavenge.out()).containsPattern("records removed\\s+[1-9]");
        Cli.Result afterScavenge = Cli.run("verify", "--data", restored.toString());
        assertThat(afterScavenge.exitCode()).as(afterScavenge.toString()).isZero();

        StoreSettings small = StoreSettings.builder().segmentSize(SEGMENT).maxEventSize((int) MAX_EVENT).build();
        try (EventStore reopened = EventStore.open(restored, small)) {
            List<RecordedEvent> all = Stores.readAll(reopened);
            assertThat(all).extracting(RecordedEvent::stream).doesNotContain("blob-1");
            // the soft-deleted stream keeps its last event (hidden from its reads), which holds its revision
            assertThat(all).filteredOn(e -> e.stream().equals("blob-2")).hasSize(1);
            assertThat(reopened.readStream("blob-2", 0, 0, io.reel.store.Direction.FORWARDS).collectList().block(Duration.ofSeconds(10))).isEmpty();
            assertThat(all).filteredOn(e -> e.stream().equals("blob-0")).hasSize(10)
                .allSatisfy(e -> assertThat(e.data()).hasSize(large.length));
            assertThat(all).filteredOn(e -> e.stream().startsWith("tick-")).hasSize(2000);
            append(reopened, "blob-0", EventData.of("Blob", large));
        }
    }

    private static void append(EventStore store, String stream, EventData... events) {
        store.append(stream, ExpectedRevision.ANY, events).block(Duration.ofSeconds(30));
    }

    private static long segmentFiles(Path data) {
        try (Stream<Path> files = Files.list(data.resolve("log"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".seg")).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
