package io.reel.projection;

import io.micrometer.core.instrument.MeterRegistry;
import io.reel.store.CheckpointStore;
import io.reel.store.ErrorCode;
import io.reel.store.EventSource;
import io.reel.store.EventStore;
import io.reel.store.ReelException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;

/**
 * The projections of one process, on one {@link EventSource}: starts them, lists them, answers queries
 * about them and stops them. Each projection's state is saved with its checkpoint in one
 * {@link CheckpointStore} directory, one file per projection name.
 *
 * <pre>{@code
 * try (EventStore store = EventStore.open(dir);
 *      Projections projections = Projections.embedded(store)) {
 *     ProjectionRunner<EventTypeCounts> types = projections.start(EventTypeCounts.projection());
 *     long placed = types.query(counts -> counts.count("OrderPlaced")).block();
 *     projections.list();                          // name, phase, position, lag, error of each
 *     projections.state("event-types").block();    // {"counts": {...}} as bytes, with its content type
 * }
 * }</pre>
 * The registry answers what the {@code projection.list} and {@code projection.state} routes need; the server
 * adapts it to the wire. Thread-safe.
 */
public final class Projections implements AutoCloseable {
    private final EventSource source;
    private final CheckpointStore checkpoints;
    private final MeterRegistry meters;
    private final Map<String, ProjectionRunner<?>> runners = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private Projections(EventSource source, CheckpointStore checkpoints, MeterRegistry meters) {
        this.source = Objects.requireNonNull(source, "source");
        this.checkpoints = Objects.requireNonNull(checkpoints, "checkpoints");
        this.meters = Objects.requireNonNull(meters, "meters");
    }

    /**
     * Projections on any source (the embedded store or a remote client), saving in {@code checkpointDirectory}
     * (created if needed) and reporting lag gauges to {@code meters}.
     */
    public static Projections create(EventSource source, Path checkpointDirectory, MeterRegistry meters) {
        return new Projections(source, CheckpointStore.open(checkpointDirectory), meters);
    }

    /**
     * Projections on an embedded store: checkpoints in {@code <data dir>/checkpoints/projections/}, gauges in
     * the store's meter registry. Close it before the store.
     */
    public static Projections embedded(EventStore store) {
        return create(store, store.directory().resolve("checkpoints").resolve("projections"), store.settings().meterRegistry());
    }

    /** Starts {@code projection} with default settings. */
    public <S> ProjectionRunner<S> start(Projection<S> projection) {
        return start(projection, ProjectionSettings.defaults());
    }

    /**
     * Starts {@code projection}: it loads its state and checkpoint and catches up in the background (see
     * {@link ProjectionRunner#status()}). Fails with {@code INVALID_ARGUMENT} when one of that name runs.
     */
    public <S> ProjectionRunner<S> start(Projection<S> projection, ProjectionSettings settings) {
        Objects.requireNonNull(projection, "projection");
        Objects.requireNonNull(settings, "settings");
        if (closed) {
            throw new ReelException(ErrorCode.CLOSED, "the projections are closed");
        }
        ProjectionRunner<S> runner = new ProjectionRunner<>(projection, source, checkpoints, settings, meters);
        if (runners.putIfAbsent(projection.name(), runner) != null) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "a projection named '" + projection.name()
                + "' is already running; stop it first or pick another name");
        }
        runner.start();
        return runner;
    }

    /** Status of every projection, by name. */
    public List<ProjectionStatus> list() {
        List<ProjectionStatus> all = new ArrayList<>();
        for (ProjectionRunner<?> r : runners.values()) {
            all.add(r.status());
        }
        all.sort(Comparator.comparing(ProjectionStatus::name));
        return all;
    }

    /** Status of one projection; {@code NOT_FOUND} when none has that name. */
    public ProjectionStatus status(String name) {
        return runnerOrThrow(name).status();
    }

    /**
     * The state of one projection encoded by its codec, with its position and content type; fails with
     * {@code NOT_FOUND} when none has that name. Encoded on the projection's thread between two events, so
     * it is always a consistent pair; a handler that blocks delays it (callers on the wire put a timeout on it).
     */
    public Mono<ProjectionState> state(String name) {
        return Mono.defer(() -> runnerOrThrow(name).encodedState());
    }

    /** The runner of {@code name}, for typed queries, rebuild and resume. */
    public Optional<ProjectionRunner<?>> runner(String name) {
        return Optional.ofNullable(name == null ? null : runners.get(name));
    }

    /** Resets and replays {@code name} (see {@link ProjectionRunner#rebuild()}); {@code NOT_FOUND} when unknown. */
    public Mono<Void> rebuild(String name) {
        return Mono.defer(() -> runnerOrThrow(name).rebuild());
    }

    /** Stops {@code name} (saving it) and forgets it; its checkpoint stays for a later start. */
    public void stop(String name) {
        ProjectionRunner<?> r = runners.remove(name);
        if (r == null) {
            throw notFound(name);
        }
        r.close();
    }

    /** The directory the states and checkpoints are saved in. */
    public Path checkpointDirectory() {
        return checkpoints.directory();
    }

    /** Stops every projection, each saving its state and checkpoint. */
    @Override
    public void close() {
        closed = true;
        for (String name : List.copyOf(runners.keySet())) {
            ProjectionRunner<?> r = runners.remove(name);
            if (r != null) {
                r.close();
            }
        }
    }

    private ProjectionRunner<?> runnerOrThrow(String name) {
        ProjectionRunner<?> r = name == null ? null : runners.get(name);
        if (r == null) {
            throw notFound(name);
        }
        return r;
    }

    private ReelException notFound(String name) {
        return new ReelException(ErrorCode.NOT_FOUND, "no projection named '" + name + "'; projection.list shows those running: "
            + String.join(", ", new java.util.TreeSet<>(runners.keySet())));
    }
}
