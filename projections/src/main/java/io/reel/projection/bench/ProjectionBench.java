package io.reel.projection.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.examples.taskboard.TaskBoard;
import io.reel.examples.tasks.proto.TaskCompleted;
import io.reel.examples.tasks.proto.TaskScheduled;
import io.reel.examples.tasks.proto.TaskStarted;
import io.reel.projection.EventTypeCounts;
import io.reel.projection.Projection;
import io.reel.projection.ProjectionRunner;
import io.reel.projection.ProjectionSettings;
import io.reel.projection.ProjectionStatus;
import io.reel.projection.Projections;
import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventSource;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import reactor.core.publisher.Flux;

/**
 * Projection throughput: how fast a projection catches up over a log, in events per second. Meant to be
 * folded into {@code reel bench}; {@link #main} runs it alone:
 * <pre>
 * java -cp ... io.reel.projection.bench.ProjectionBench event-types|task-board [events] [payload-bytes]
 * </pre>
 * The log is written first (1000 events per append, batched durability) into a fresh store; the projection
 * runs once over it to warm up; then the clock runs from starting it again (no checkpoint) until its position
 * reaches the head, with default settings (so the figure includes its periodic saves). An optional fourth
 * argument overrides {@code saveEvery}.
 */
public final class ProjectionBench {
    private static ProjectionSettings SETTINGS = ProjectionSettings.defaults();

    private ProjectionBench() {
    }

    /**
     * One measurement.
     *
     * @param workload {@code projection-event-types} or {@code projection-task-board}
     * @param events   events applied
     * @param seconds  from start to caught up
     */
    public record Result(String workload, long events, double seconds) {
        public double eventsPerSec() {
            return seconds == 0 ? 0 : events / seconds;
        }

        /** One line in {@code reel bench --json} style. */
        public String toJson() {
            return String.format(Locale.ROOT, "{\"workload\": \"%s\", \"events\": %d, \"seconds\": %.3f, \"events_per_sec\": %.0f}",
                workload, events, seconds, eventsPerSec());
        }
    }

    /** Writes {@code events} events of 8 types into a fresh store in {@code dir}, then times {@code event-types} over them. */
    public static Result eventTypes(Path dir, long events, int payloadBytes) {
        try (EventStore store = EventStore.open(dir, benchSettings())) {
            byte[] payload = new byte[payloadBytes];
            List<EventData> batch = new ArrayList<>(1000);
            long written = 0;
            while (written < events) {
                batch.clear();
                for (int i = 0; i < 1000 && written + i < events; i++) {
                    batch.add(EventData.of(UUID.randomUUID(), "Type" + ((written + i) % 8), EventData.OCTET_STREAM, payload, null));
                }
                store.append("bench-" + (written / 1000 % 100), ExpectedRevision.ANY, batch).block();
                written += batch.size();
            }
            return warmThenMeasure("projection-event-types", store, EventTypeCounts.projection());
        }
    }

    /** Writes tasks (scheduled, started, completed: three events each) until {@code events}, then times {@code task-board}. */
    public static Result taskBoard(Path dir, long events) {
        try (EventStore store = EventStore.open(dir, benchSettings())) {
            long tasks = Math.max(1, events / 3);
            int perAppend = 333;
            for (long from = 0; from < tasks; from += perAppend) {
                long first = from;
                long last = Math.min(tasks, first + perAppend);
                Flux.range(0, (int) (last - first)).flatMap(i -> {
                    String id = Long.toString(first + i);
                    return store.append("task-" + id, ExpectedRevision.NO_STREAM,
                        EventData.of("TaskScheduled", TaskScheduled.newBuilder().setTaskId(id).setInvestigator("pi-" + (first + i) % 50)
                            .setTitle("task " + id).setDueEpochDay(20_000 + i).build()),
                        EventData.of("TaskStarted", TaskStarted.newBuilder().setTaskId(id).setStartedBy("tech").build()),
                        EventData.of("TaskCompleted", TaskCompleted.newBuilder().setTaskId(id).setOutcome("done").build()));
                }, 64).blockLast();
            }
            return warmThenMeasure("projection-task-board", store, TaskBoard.projection());
        }
    }

    /**
     * Runs {@code projection} once over the whole log to warm up (JIT, page cache), then times a second run,
     * each from a fresh checkpoint directory beside the store's data.
     */
    public static Result warmThenMeasure(String workload, EventStore store, Projection<?> projection) {
        measure(workload, store, projection, store.directory().resolve("bench-checkpoints-warm-up"));
        return measure(workload, store, projection, store.directory().resolve("bench-checkpoints"));
    }

    /** Times {@code projection} from a fresh checkpoint directory until it reaches the head of {@code source}. */
    public static Result measure(String workload, EventSource source, Projection<?> projection, Path checkpointDirectory) {
        return measure(workload, source, projection, checkpointDirectory, SETTINGS);
    }

    /** As {@link #measure(String, EventSource, Projection, Path)}, with the given settings. */
    public static Result measure(String workload, EventSource source, Projection<?> projection, Path checkpointDirectory,
                                 ProjectionSettings settings) {
        long head = source.head().block();
        try (Projections projections = Projections.create(source, checkpointDirectory, new SimpleMeterRegistry())) {
            long started = System.nanoTime();
            ProjectionRunner<?> runner = projections.start(projection, settings);
            while (runner.status().position() < head) {
                if (runner.status().phase() == ProjectionStatus.Phase.FAILED) {
                    throw new IllegalStateException("the projection failed: " + runner.status().error());
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            return new Result(workload, head, seconds);
        }
    }

    private static StoreSettings benchSettings() {
        return StoreSettings.builder().durability(Durability.batched(Duration.ofMillis(50))).build();
    }

    public static void main(String[] args) throws Exception {
        String workload = args.length > 0 ? args[0] : "event-types";
        long events = args.length > 1 ? Long.parseLong(args[1]) : 1_000_000;
        int payload = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        if (args.length > 3) {
            SETTINGS = SETTINGS.saveEvery(Long.parseLong(args[3]));
        }
        Path dir = Files.createTempDirectory("reel-projection-bench");
        try {
            Result r = workload.equals("task-board") ? taskBoard(dir, events) : eventTypes(dir, events, payload);
            System.out.println(r.toJson());
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
