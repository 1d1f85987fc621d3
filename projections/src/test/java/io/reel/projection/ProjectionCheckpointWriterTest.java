package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reel.store.CheckpointStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint writer on a real {@link CheckpointStore} in a temporary directory, with the background writes held in
 * a queue the test runs, so each step is a plain value and nothing waits for time.
 */
class ProjectionCheckpointWriterTest {
    @TempDir
    Path dir;

    /** Background writes wait here until the test runs them; the runner's thread is the test's, its tasks wait in {@code posted}. */
    private final ArrayDeque<Runnable> writes = new ArrayDeque<>();
    private final ConcurrentLinkedQueue<Runnable> posted = new ConcurrentLinkedQueue<>();
    private final List<String> outcomes = new ArrayList<>();

    private ProjectionCheckpointWriter<String> writer(CheckpointStore store) {
        return new ProjectionCheckpointWriter<>("p", store, s -> s.getBytes(StandardCharsets.UTF_8), writes::add, posted::add,
            (position, error) -> outcomes.add(position + (error == null ? " saved" : " failed")));
    }

    /** Runs what was posted to the runner's thread. */
    private static void runPosted(Queue<Runnable> posted) {
        Runnable task;
        while ((task = posted.poll()) != null) {
            task.run();
        }
    }

    private static String stored(CheckpointStore store) {
        return store.load("p").map(c -> c.position() + "=" + new String(c.state(), StandardCharsets.UTF_8)).orElse("none");
    }

    @Test
    void aForegroundSaveWritesThePairOnlyWhenThePositionMoved() {
        CheckpointStore store = CheckpointStore.open(dir);
        ProjectionCheckpointWriter<String> writer = writer(store);
        writer.savedAt(0);
        writer.save(0, "s0");
        assertThat(stored(store)).isEqualTo("none");
        writer.applied();
        writer.applied();
        assertThat(writer.eventsSinceSave()).isEqualTo(2);
        writer.save(2, "s2");
        assertThat(stored(store)).isEqualTo("2=s2");
        assertThat(writer.eventsSinceSave()).isZero();
    }

    @Test
    void oneBackgroundSaveAtATimeAndAForegroundSaveWaitsForIt() {
        CheckpointStore store = CheckpointStore.open(dir);
        ProjectionCheckpointWriter<String> writer = writer(store);
        writer.saveInBackground(3, "s3");
        writer.saveInBackground(5, "s5");
        assertThat(writes).as("the second waits for the first").hasSize(1);
        assertThat(writer.inFlight()).isNotNull();
        writes.poll().run();
        runPosted(posted);
        assertThat(outcomes).containsExactly("3 saved");
        assertThat(writer.inFlight()).isNull();
        assertThat(stored(store)).isEqualTo("3=s3");

        writer.saveInBackground(3, "again");
        assertThat(writes).as("nothing moved").isEmpty();
        writer.saveInBackground(7, "s7");
        Runnable write = writes.poll();
        Thread saver = new Thread(write);
        saver.start();
        writer.save(8, "s8");
        joinQuietly(saver);
        runPosted(posted);
        assertThat(stored(store)).isEqualTo("8=s8");
        assertThat(outcomes).containsExactly("3 saved", "7 saved");
    }

    @Test
    void aFailedBackgroundWriteIsReportedAndAStateThatDoesNotEncodeWritesNothing() throws IOException {
        Path blocked = dir.resolve("blocked");
        CheckpointStore store = CheckpointStore.open(blocked);
        ProjectionCheckpointWriter<String> writer = writer(store);
        try (Stream<Path> files = Files.walk(blocked)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        Files.writeString(blocked, "a file where the directory was");
        writer.saveInBackground(4, "s4");
        writes.poll().run();
        runPosted(posted);
        assertThat(outcomes).containsExactly("4 failed");

        ProjectionCheckpointWriter<String> failing = new ProjectionCheckpointWriter<>("p", CheckpointStore.open(dir), s -> {
            throw new IllegalStateException("no codec for " + s);
        }, writes::add, Runnable::run, (position, error) -> { });
        assertThatThrownBy(() -> failing.saveInBackground(1, "x")).hasMessageContaining("no codec");
        assertThat(writes).isEmpty();
    }

    /**
     * Whatever mix of foreground saves, background saves and completed writes, the pair on disk moves forward only
     * and, after a foreground save, is exactly that save's pair.
     */
    @Property(tries = 60)
    void thePairOnDiskOnlyMovesForward(@ForAll @Size(max = 30) List<@IntRange(min = 0, max = 3) Integer> steps) throws IOException {
        Path base = Files.createTempDirectory("writer-property");
        try {
            CheckpointStore store = CheckpointStore.open(base);
            ArrayDeque<Runnable> queued = new ArrayDeque<>();
            Queue<Runnable> runner = new ConcurrentLinkedQueue<>();
            ProjectionCheckpointWriter<String> writer = new ProjectionCheckpointWriter<>("p", store,
                s -> s.getBytes(StandardCharsets.UTF_8), queued::add, runner::add, (position, error) -> { });
            long position = 0;
            long onDisk = -1;
            for (int step : steps) {
                switch (step) {
                    case 0 -> {
                        position++;
                        writer.applied();
                    }
                    case 1 -> writer.saveInBackground(position, "s" + position);
                    case 2 -> {
                        Runnable w = queued.poll();
                        if (w != null) {
                            w.run();
                        }
                    }
                    default -> {
                        Thread t = new Thread(() -> {
                            Runnable w = queued.poll();
                            if (w != null) {
                                w.run();
                            }
                        });
                        t.start();
                        writer.save(position, "s" + position);
                        if (position > 0) {
                            assertThat(stored(store)).isEqualTo(position + "=s" + position);
                        }
                        joinQuietly(t);
                    }
                }
                runPosted(runner);
                long now = store.load("p").map(CheckpointStore.Checkpoint::position).orElse(-1L);
                assertThat(now).isGreaterThanOrEqualTo(onDisk);
                onDisk = now;
                if (now >= 0) {
                    assertThat(stored(store)).isEqualTo(now + "=s" + now);
                }
            }
        } finally {
            try (Stream<Path> files = Files.walk(base)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
