package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.store.Direction;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.transport.ReelServer;
import io.reel.transport.ServerSettings;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote projection in a separate JVM over RSocket survives a server restart: this JVM hosts the store and the
 * server; a child JVM ({@link RemoteProjectionProcess}) runs a {@link Fold} and {@code event-types} on a
 * {@code ReelClient}. The server is closed and started again on the same port, twice, while appends go on; once
 * the appends stop, the child's states equal the folds over {@code readAll} up to the head: nothing missed,
 * nothing counted twice, nothing out of order.
 */
class RemoteProjectionRestartTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** The child JVM and the lines it answers with. */
    private static final class Child implements AutoCloseable {
        final Process process;
        final BufferedReader out;
        final Writer in;
        final File errors;

        Child(Process process, File errors) {
            this.process = process;
            this.errors = errors;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        }

        String readLine() throws IOException {
            String line = out.readLine();
            if (line == null) {
                throw new AssertionError("the child exited; its stderr: " + Files.readString(errors.toPath()));
            }
            return line;
        }

        /** name → {phase, position, state} */
        Map<String, String[]> states() throws IOException {
            in.write("state\n");
            in.flush();
            Map<String, String[]> states = new HashMap<>();
            for (String line = readLine(); !line.equals("end"); line = readLine()) {
                String[] f = line.split(" ", 5);
                states.put(f[1], new String[] {f[2], f[3], f[4]});
            }
            return states;
        }

        long position(String name) throws IOException {
            return Long.parseLong(states().get(name)[1]);
        }

        @Override
        public void close() {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            errors.delete();
        }
    }

    @Test
    @Timeout(120)
    void aRemoteProjectionInAnotherJvmSurvivesServerRestarts() throws Exception {
        try (EventStore store = Stores.open(dir.resolve("data"), new SimpleMeterRegistry())) {
            ReelServer server = ReelServer.start(store, ServerSettings.builder().tcpPort(0).webSocketPort(0).build());
            int port = server.tcpAddress().getPort();
            ServerSettings samePort = ServerSettings.builder().tcpPort(port).webSocketPort(0).build();
            Stores.appendSpread(store, "Seeded", 2000, 7);

            AtomicBoolean appending = new AtomicBoolean(true);
            AtomicLong appended = new AtomicLong();
            Thread appender = new Thread(() -> {
                for (int i = 0; appending.get(); i++) {
                    store.append("live-" + (i % 5), ExpectedRevision.ANY, EventData.json(i % 3 == 0 ? "Paid" : "Placed", "{\"i\": " + i + "}"))
                        .block(WAIT);
                    appended.incrementAndGet();
                    if (i % 20 == 0) {
                        sleep(2);
                    }
                }
            }, "appender");

            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            File errors = Files.createTempFile("remote-projection", ".err").toFile();
            Process process = new ProcessBuilder(java, "-Xmx256m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), RemoteProjectionProcess.class.getName(),
                Integer.toString(port), dir.resolve("child-checkpoints").toString())
                .redirectError(errors).start();
            try (Child child = new Child(process, errors)) {
                assertThat(child.readLine()).isEqualTo("ready");
                appender.start();
                await().atMost(WAIT).until(() -> child.position("fold") >= 2000 && child.position(EventTypeCounts.NAME) >= 2000);

                for (int restart = 0; restart < 2; restart++) {
                    long before = child.position("fold");
                    server.close();
                    long appendedWhileDown = appended.get();
                    await().atMost(WAIT).until(() -> appended.get() >= appendedWhileDown + 100);
                    server = ReelServer.start(store, samePort);
                    long head = store.headPosition();
                    await().atMost(WAIT).until(() -> child.position("fold") >= head && child.position(EventTypeCounts.NAME) >= head);
                    assertThat(child.position("fold")).isGreaterThan(before);
                }

                appending.set(false);
                appender.join(WAIT.toMillis());
                long head = store.headPosition();
                await().atMost(WAIT).until(() -> child.position("fold") == head && child.position(EventTypeCounts.NAME) == head);

                Map<String, String[]> states = child.states();
                assertThat(states.get("fold")[0]).isEqualTo("RUNNING");
                assertThat(states.get(EventTypeCounts.NAME)[0]).isEqualTo("RUNNING");
                assertThat(states.get("fold")[2])
                    .isEqualTo(new String(Fold.codec().encode(Fold.over(store, head)), StandardCharsets.UTF_8));
                assertThat(states.get(EventTypeCounts.NAME)[2]).isEqualTo(eventTypesOver(store, head));
                assertThat(appended.get()).isGreaterThan(200);
            } finally {
                appending.set(false);
                appender.join(WAIT.toMillis());
                server.close();
            }
        }
    }

    /** {@code event-types}'s state as documented: {@code {"counts": {"<type>": n, …}}}, types sorted. */
    private static String eventTypesOver(EventStore store, long head) {
        TreeMap<String, Long> counts = new TreeMap<>();
        for (RecordedEvent e : store.readAll(0, head, Direction.FORWARDS, EventFilter.none()).toIterable()) {
            counts.merge(e.type(), 1L, Long::sum);
        }
        StringJoiner json = new StringJoiner(", ", "{\"counts\": {", "}}");
        counts.forEach((type, n) -> json.add("\"" + type + "\": " + n));
        return json.toString();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
