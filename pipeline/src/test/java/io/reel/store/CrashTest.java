package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real child JVM appends with FSYNC from many threads and prints every acknowledged event; the test kills
 * it with SIGKILL at a random moment, reopens the store and finds every acknowledged event at its position,
 * positions dense, no duplicate — several rounds on the same directory, each killed at a different moment.
 */
class CrashTest {
    @TempDir
    Path dir;

    record Ack(long position, UUID id, String stream, long revision) {
    }

    @Test
    @Timeout(180)
    void everyAcknowledgedEventSurvivesSigkill() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Map<Long, Ack> acknowledged = new HashMap<>();
        for (int round = 0; round < 6; round++) {
            int killAfter = 20 + random.nextInt(round % 2 == 0 ? 200 : 3000);
            Map<Long, Ack> acks = runAndKill("r" + round, killAfter, round == 0);
            acknowledged.putAll(acks);
            try (EventStore store = EventStore.open(dir, StoreSettings.builder().segmentSize(256 * 1024).maxEventSize(8 * 1024).build())) {
                List<RecordedEvent> all = store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).collectList().block();
                Set<UUID> ids = new HashSet<>();
                Map<String, Long> revisions = new HashMap<>();
                for (int i = 0; i < all.size(); i++) {
                    RecordedEvent r = all.get(i);
                    assertThat(r.position()).as("dense positions (seed %d)", seed).isEqualTo(i);
                    assertThat(ids.add(r.eventId())).as("no duplicate event (seed %d)", seed).isTrue();
                    long expectedRevision = revisions.getOrDefault(r.stream(), -1L) + 1;
                    assertThat(r.revision()).as("dense revisions in %s (seed %d)", r.stream(), seed).isEqualTo(expectedRevision);
                    revisions.put(r.stream(), expectedRevision);
                }
                for (Ack ack : acknowledged.values()) {
                    assertThat(ack.position()).as("acknowledged position %d is in the log (seed %d)", ack.position(), seed)
                        .isLessThan(all.size());
                    RecordedEvent r = all.get((int) ack.position());
                    assertThat(r.eventId()).isEqualTo(ack.id());
                    assertThat(r.stream()).isEqualTo(ack.stream());
                    assertThat(r.revision()).isEqualTo(ack.revision());
                }
                assertThat(store.readStream(acknowledged.values().iterator().next().stream(), 0, 0, Direction.FORWARDS).count().block())
                    .isPositive();
            }
        }
        assertThat(acknowledged).hasSizeGreaterThan(80);
    }

    private Map<Long, Ack> runAndKill(String tag, int killAfter, boolean checkLock) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        File errors = Files.createTempFile("crash-writer", ".err").toFile();
        Process child = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"), CrashWriter.class.getName(),
            dir.toString(), "16", tag)
            .redirectError(errors)
            .start();
        Map<Long, Ack> acks = new ConcurrentHashMap<>();
        CountDownLatch enough = new CountDownLatch(1);
        CountDownLatch ready = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("ready")) {
                        ready.countDown();
                    } else if (line.startsWith("ack ")) {
                        String[] f = line.split(" ");
                        long position = Long.parseLong(f[1]);
                        acks.put(position, new Ack(position, UUID.fromString(f[2]), f[3], Long.parseLong(f[4])));
                        if (acks.size() >= killAfter) {
                            enough.countDown();
                        }
                    }
                }
            } catch (Exception e) {
                // the child died: the stream ends
            }
        });
        reader.start();
        try {
            assertThat(ready.await(60, TimeUnit.SECONDS)).as("child started; its stderr: %s", Files.readString(errors.toPath())).isTrue();
            if (checkLock) {
                assertThatThrownBy(() -> EventStore.open(dir))
                    .isInstanceOfSatisfying(ReelException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.LOCKED);
                        assertThat(e.getMessage()).contains(dir.toAbsolutePath().toString()).contains("pid " + child.pid());
                    });
            }
            assertThat(enough.await(60, TimeUnit.SECONDS)).as("child acknowledged appends; its stderr: %s", Files.readString(errors.toPath()))
                .isTrue();
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
            reader.join(10_000);
            errors.delete();
        }
        return acks;
    }
}
