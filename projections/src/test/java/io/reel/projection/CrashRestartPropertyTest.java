package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.projection.ProjectionStatus.Phase;
import io.reel.store.CheckpointStore;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * A projection's state equals the fold over {@code readAll} however often its runner is stopped or crashed
 * (no final save, thread interrupted) and restarted, while appends go on; and a crash re-applies exactly the
 * events applied after the last save, each once more, never anything else.
 */
class CrashRestartPropertyTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    /** Run the runner until it has applied {@code events} more, then crash it (or close it cleanly). */
    record Stop(int events, boolean crash, int saveEvery, int saveIntervalMs) {
    }

    @Provide
    Arbitrary<Stop> stops() {
        return Combinators.combine(Arbitraries.integers().between(1, 400), Arbitraries.of(true, true, false),
            Arbitraries.integers().between(1, 300), Arbitraries.integers().between(5, 200)).as(Stop::new);
    }

    @Property(tries = 12)
    void stateEqualsTheFoldAfterRandomCrashesAndRestarts(@ForAll @Size(min = 1, max = 5) List<@net.jqwik.api.From("stops") Stop> stops,
                                                         @ForAll long appendSeed) throws Exception {
        Path dir = Files.createTempDirectory("reel-projection-crash");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Map<Long, Integer> deliveries = new ConcurrentHashMap<>();
        Projection<Fold> recording = Projection.builder("crashy", Fold::new)
            .onAnyOther((f, e) -> {
                deliveries.merge(e.position(), 1, Integer::sum);
                return f.add(e);
            }).codec(Fold.codec()).build();
        AtomicBoolean appending = new AtomicBoolean(true);
        List<long[]> replayWindows = new ArrayList<>();
        try (EventStore store = Stores.open(dir.resolve("data"), meters)) {
            CheckpointStore checkpoints = CheckpointStore.open(dir.resolve("checkpoints"));
            Stores.appendSpread(store, "Seed", 200, 3);
            Thread appender = new Thread(() -> appendUntilStopped(store, appending, new Random(appendSeed)), "appender");
            appender.start();
            try {
                for (Stop stop : stops) {
                    ProjectionSettings settings = ProjectionSettings.defaults().saveEvery(stop.saveEvery())
                        .saveInterval(Duration.ofMillis(stop.saveIntervalMs())).window(64);
                    ProjectionRunner<Fold> runner = new ProjectionRunner<>(recording, store, checkpoints, settings, meters);
                    long from = checkpoints.load("crashy").map(CheckpointStore.Checkpoint::position).orElse(0L);
                    runner.start();
                    await().atMost(WAIT).until(() -> runner.status().position() >= from + stop.events()
                        || (!appender.isAlive() && runner.status().position() == store.headPosition()));
                    assertThat(runner.status().phase()).isIn(Phase.CATCHING_UP, Phase.RUNNING);
                    if (stop.crash()) {
                        runner.crash();
                    } else {
                        runner.close();
                    }
                    long reached = runner.status().position();
                    long saved = checkpoints.load("crashy").orElseThrow().position();
                    assertThat(saved).isLessThanOrEqualTo(reached);
                    if (!stop.crash()) {
                        assertThat(saved).isEqualTo(reached);
                    }
                    replayWindows.add(new long[] {saved, reached});
                }
            } finally {
                appending.set(false);
                appender.join();
            }

            ProjectionRunner<Fold> last = new ProjectionRunner<>(recording, store, checkpoints, ProjectionSettings.defaults(), meters);
            last.start();
            try {
                long head = store.headPosition();
                await().atMost(WAIT).until(() -> last.status().position() == head && last.status().phase() == Phase.RUNNING);
                assertThat(last.query(Fold::copy).block()).isEqualTo(Fold.over(store, head));
                for (long p = 0; p < head; p++) {
                    int expected = 1;
                    for (long[] w : replayWindows) {
                        if (p >= w[0] && p < w[1]) {
                            expected++;
                        }
                    }
                    assertThat(deliveries.get(p)).as("deliveries of position %d (replays after crashes: %s)", p, windows(replayWindows))
                        .isEqualTo(expected);
                }
            } finally {
                last.close();
            }
        } finally {
            delete(dir);
        }
    }

    private static void appendUntilStopped(EventStore store, AtomicBoolean appending, Random random) {
        int written = 0;
        while (appending.get() && written < 20_000) {
            int n = 1 + random.nextInt(20);
            List<EventData> batch = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                batch.add(EventData.json("Type" + random.nextInt(4), "{}"));
            }
            store.append("s-" + random.nextInt(8), ExpectedRevision.ANY, batch).block(WAIT);
            written += n;
            if (random.nextInt(4) == 0) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private static String windows(List<long[]> windows) {
        StringBuilder b = new StringBuilder();
        for (long[] w : windows) {
            b.append('[').append(w[0]).append(", ").append(w[1]).append(") ");
        }
        return b.toString();
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
