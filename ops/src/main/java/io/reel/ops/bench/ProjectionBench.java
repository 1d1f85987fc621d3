package io.reel.ops.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.projection.Projection;
import io.reel.projection.ProjectionRunner;
import io.reel.projection.ProjectionSettings;
import io.reel.projection.ProjectionStatus;
import io.reel.projection.Projections;
import io.reel.store.EventSource;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/**
 * The {@code projection} workload of {@code reel bench}: how fast a projection catches up over a log, in events
 * per second, from a fresh checkpoint directory until its position reaches the head, with default settings (so
 * the figure includes its periodic saves). Works on any {@link EventSource}: the store itself or a
 * {@code ReelClient}.
 */
final class ProjectionBench {
    private ProjectionBench() {
    }

    /** One measurement: {@code events} applied in {@code seconds}, from start to caught up. */
    record Result(String workload, long events, double seconds) {
        double eventsPerSec() {
            return seconds == 0 ? 0 : events / seconds;
        }
    }

    /** Runs {@code projection} once to warm up (JIT, page cache), then times a second run, each from a fresh checkpoint directory. */
    static Result warmThenMeasure(String workload, EventSource source, Projection<?> projection, Path checkpoints) {
        measure(workload, source, projection, checkpoints.resolve("warm-up"));
        return measure(workload, source, projection, checkpoints.resolve("measured"));
    }

    /** Times {@code projection} from a fresh checkpoint directory until it reaches the head of {@code source}. */
    static Result measure(String workload, EventSource source, Projection<?> projection, Path checkpointDirectory) {
        long head = source.head().block();
        try (Projections projections = Projections.create(source, checkpointDirectory, new SimpleMeterRegistry())) {
            long started = System.nanoTime();
            ProjectionRunner<?> runner = projections.start(projection, ProjectionSettings.defaults());
            while (runner.status().position() < head) {
                if (runner.status().phase() == ProjectionStatus.Phase.FAILED) {
                    throw new IllegalStateException("the projection failed: " + runner.status().error());
                }
                LockSupport.parkNanos(1_000_000);
            }
            return new Result(workload, head, (System.nanoTime() - started) / 1e9);
        }
    }
}
