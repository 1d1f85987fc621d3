package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.projection.ProjectionStatus;
import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StoreAdmin;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * A server runtime on a real, small file system (an 8 MiB tmpfs) that fills up: appends fail with
 * {@code STORAGE_FULL} and nothing of them is acknowledged, {@code /health} says 503, reads and subscriptions
 * go on, and once space is freed appends resume by themselves; every acknowledged event is there after a
 * reopen and {@code verify} is clean. Needs root to mount the tmpfs; skips, saying so, otherwise.
 */
class DiskFullTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void writesStopWithStorageFullReadsGoOnAndWritesResumeWhenSpaceReturns() throws Exception {
        Path mount = Files.createDirectories(dir.resolve("small-fs"));
        mountSmallFileSystem(mount);
        try {
            runOnSmallFileSystem(mount);
        } finally {
            run("umount", mount.toString());
        }
    }

    private void runOnSmallFileSystem(Path mount) throws Exception {
        Path data = mount.resolve("data");
        Path ballast = mount.resolve("ballast");
        List<RecordedEvent> acknowledged = new ArrayList<>();
        List<Long> received = new CopyOnWriteArrayList<>();
        ServerRuntime runtime = ServerRuntime.start(Configs.onFreePorts(data, Durability.fsync(), 2L << 20));
        try {
            EventStore store = runtime.store();
            String http = ServerRuntime.hostPort(runtime.httpAddress());
            Disposable live = store.subscribe(SubscribeOptions.fromStart()).subscribe(m -> {
                if (m instanceof SubscriptionMessage.Event e) {
                    received.add(e.event().position());
                }
            }, e -> { });
            appendAcknowledged(store, acknowledged, 20);
            fill(ballast);

            ReelException full = null;
            for (int i = 0; i < 2_000 && full == null; i++) {
                try {
                    appendAcknowledged(store, acknowledged, 1);
                } catch (ReelException e) {
                    full = e;
                }
            }
            assertThat(full).as("appends fail once the file system is full").isNotNull();
            assertThat(full.code()).isEqualTo(ErrorCode.STORAGE_FULL);
            assertThat(full.getMessage()).contains("free some space");
            long headWhenFull = store.headPosition();
            assertThat(headWhenFull).isEqualTo(acknowledged.size());

            Http.Response health = Http.get(http, "/health");
            assertThat(health.status()).isEqualTo(503);
            assertThat(HttpEndpointTest.object(health.body())).containsEntry("status", "writes_stopped");
            assertThat((String) HttpEndpointTest.object(health.body()).get("writer")).startsWith("STORAGE_FULL: ");
            assertThatStillRejected(store, ErrorCode.STORAGE_FULL);

            assertThat(Stores.readAll(store)).extracting(RecordedEvent::eventId)
                .containsExactlyElementsOf(acknowledged.stream().map(RecordedEvent::eventId).toList());
            List<SubscriptionMessage> caughtUp = store.subscribe(SubscribeOptions.fromStart()).take(headWhenFull + 1)
                .collectList().block(Duration.ofSeconds(30));
            assertThat(caughtUp).last().isInstanceOf(SubscriptionMessage.CaughtUp.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == headWhenFull);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat((String) HttpEndpointTest.object(Http.get(http, "/api/stats").body()).get("writer_state")).startsWith("STORAGE_FULL"));

            Files.delete(ballast);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreException(ReelException.class)
                .until(() -> {
                    appendAcknowledged(store, acknowledged, 1);
                    return true;
                });
            appendAcknowledged(store, acknowledged, 50);
            assertThat(Http.get(http, "/health").status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == acknowledged.size());
            assertThat(received).containsExactlyElementsOf(acknowledged.stream().map(RecordedEvent::position).toList());
            live.dispose();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                ProjectionStatus eventTypes = runtime.projections().status("event-types");
                assertThat(eventTypes.phase()).as(eventTypes.toString()).isEqualTo(ProjectionStatus.Phase.RUNNING);
                assertThat(eventTypes.position()).isEqualTo(store.headPosition());
            });
        } finally {
            runtime.close();
        }
        StoreAdmin.VerifyReport report = StoreAdmin.verify(data);
        assertThat(report.problems()).isEmpty();
        try (EventStore reopened = EventStore.open(data)) {
            List<RecordedEvent> all = Stores.readAll(reopened);
            assertThat(all).extracting(RecordedEvent::eventId).containsExactlyElementsOf(acknowledged.stream().map(RecordedEvent::eventId).toList());
        }
    }

    /** Appends {@code appends} appends of ten 1 KiB events and remembers what was acknowledged (read back by position). */
    private static void appendAcknowledged(EventStore store, List<RecordedEvent> acknowledged, int appends) {
        for (int a = 0; a < appends; a++) {
            List<EventData> events = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                events.add(EventData.of("Filler", new byte[1024]));
            }
            var result = store.append("filler", ExpectedRevision.ANY, events).block(Duration.ofSeconds(30));
            acknowledged.addAll(store.readAll(result.firstPosition(), 10, io.reel.store.Direction.FORWARDS, io.reel.store.EventFilter.none())
                .collectList().block(Duration.ofSeconds(30)));
        }
    }

    /** The same append again (a smaller one may still fit in the preallocated segment: that is what preallocation is for). */
    private static void assertThatStillRejected(EventStore store, ErrorCode code) {
        try {
            List<EventData> events = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                events.add(EventData.of("Filler", new byte[1024]));
            }
            store.append("filler", ExpectedRevision.ANY, events).block(Duration.ofSeconds(30));
            throw new AssertionError("an append that needs a new segment succeeded on a full file system");
        } catch (ReelException e) {
            assertThat(e.code()).isEqualTo(code);
        }
    }

    /** Writes a file until the file system says it is full. */
    private static void fill(Path file) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(chunk);
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
        }
    }

    private static void mountSmallFileSystem(Path mount) throws Exception {
        String reason = null;
        if (!"root".equals(System.getProperty("user.name"))) {
            reason = "not running as root";
        } else {
            Map.Entry<Integer, String> r = run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount.toString());
            if (r.getKey() != 0) {
                reason = "'mount -t tmpfs' failed: " + r.getValue().trim();
            }
        }
        if (reason != null) {
            String message = "SKIPPED disk-full test: it needs a small real file system and " + reason
                + "; run the tests as root (with CAP_SYS_ADMIN) to include it";
            System.err.println(message);
            Assumptions.abort(message);
        }
    }

    private static Map.Entry<Integer, String> run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return Map.entry(-1, "timed out");
        }
        return Map.entry(p.exitValue(), output);
    }
}
