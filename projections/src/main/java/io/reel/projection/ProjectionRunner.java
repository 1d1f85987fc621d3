package io.reel.projection;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.reel.projection.ProjectionStatus.Phase;
import io.reel.store.CheckpointStore;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Runs one {@link Projection} on an {@link EventSource}: loads its state and checkpoint together, subscribes
 * from that checkpoint, applies events in position order, and saves state and checkpoint together,
 * atomically, in a {@link CheckpointStore} every {@link ProjectionSettings#saveEvery() N events} or
 * {@link ProjectionSettings#saveInterval() T}, on failure and on {@link #close()}. Started by
 * {@link Projections#start}.
 *
 * <h2>Threads and demand</h2>
 * Each runner owns one thread ({@code reel-projection-<name>}): handlers, state encoding, queries, rebuilds
 * and the final save run there, one at a time, so handlers never race with each other or with a query, and
 * no Reactor or Netty thread ever runs a handler or waits for a disk. Periodic saves encode the state there
 * (a consistent pair with the position) and write it on {@code boundedElastic}, one save at a time, while
 * the handlers go on. The lag is refreshed on Reactor's parallel scheduler, so it keeps moving while a handler
 * blocks. The subscription only hands messages over: the runner requests {@link ProjectionSettings#window()}
 * messages, holds at most that many, and requests more as it applies them. A slow handler slows its own
 * projection only. Do not block on a query or call {@link #close()} from inside a handler: both wait for
 * the handler's own thread.
 *
 * <h2>Crashes and restarts</h2>
 * After a crash the runner resumes from the last saved state and checkpoint, which were written together:
 * it re-applies exactly the events applied since that save, so the state is as if each event was applied
 * once. How many that is: at most about {@code saveEvery} events plus those applied while one save is
 * written, or {@code saveInterval} worth. Handler side effects outside the state happen at least once
 * (see {@link Projection}).
 *
 * <h2>Failures</h2>
 * A handler that throws is retried, skipped or stops the projection as the {@link FailurePolicy} says; the
 * {@link #status()} says which (phase {@code RETRYING} or {@code FAILED}, the error, the skipped count).
 * A FAILED runner keeps its thread, answers queries with the state before the failing event and can
 * {@link #resume()} or {@link #rebuild()}. When the source fails (a dropped connection, a restarting server)
 * the runner resubscribes from its position with a growing backoff, forever, saying so in its status; only
 * {@code INVALID_ARGUMENT}, {@code UNAUTHORIZED} and {@code NOT_FOUND} from the source stop it.
 *
 * <h2>Parts</h2>
 * This class runs the projection (apply, fail, retry, resubscribe) on its thread; {@link ProjectionFeed} is one
 * subscription handing messages over, {@link ProjectionCheckpointWriter} saves state and checkpoint together, and
 * {@link ProjectionLag} keeps the lag.
 *
 * <p>Nothing here assumes an embedded store: the runner uses only {@link EventSource#subscribe},
 * {@link EventSource#head()} and {@link EventSource#readAll} (one record, for the lag in seconds).
 * Thread-safe.
 *
 * @param <S> the state type
 */
public final class ProjectionRunner<S> {
    private static final Logger LOG = LoggerFactory.getLogger(ProjectionRunner.class);
    private static final long CLOSE_TIMEOUT_SECONDS = 30;
    /** Writes background saves: file I/O off the runner's thread and off every Reactor thread but boundedElastic. */
    private static final Executor SAVER = task -> Schedulers.boundedElastic().schedule(task);

    private final Projection<S> projection;
    private final String name;
    private final EventSource source;
    private final CheckpointStore checkpoints;
    private final ProjectionSettings settings;
    private final MeterRegistry meters;
    private final List<Meter> registered = new ArrayList<>();
    private final ScheduledThreadPoolExecutor executor;
    private final int replenishAt;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final ProjectionLag lag;
    private final ProjectionCheckpointWriter<S> writer;
    private volatile Thread thread;

    /* The runner's thread only. */
    private S state;
    private ProjectionFeed feed;
    private int attempts;
    private int resubscribes;
    private boolean retryPending;
    private boolean sourceTrouble;
    private boolean stateUnreadable;
    private ScheduledFuture<?> pending;
    private ScheduledFuture<?> saveTimer;

    /* Written by the runner's thread, read by any. */
    private volatile Condition condition = new Condition(Phase.STOPPED, "");
    private volatile long position;
    private volatile long skipped;
    private volatile long applied;
    private volatile boolean closed;

    ProjectionRunner(Projection<S> projection, EventSource source, CheckpointStore checkpoints, ProjectionSettings settings,
                     MeterRegistry meters) {
        this.projection = Objects.requireNonNull(projection, "projection");
        this.name = projection.name();
        this.source = Objects.requireNonNull(source, "source");
        this.checkpoints = Objects.requireNonNull(checkpoints, "checkpoints");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.meters = Objects.requireNonNull(meters, "meters");
        this.replenishAt = settings.window() - (settings.window() >> 2);
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "reel-projection-" + name);
            t.setDaemon(true);
            thread = t;
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        this.lag = new ProjectionLag(name, source, settings.clock(), settings.lagRefreshInterval(), () -> position);
        this.writer = new ProjectionCheckpointWriter<>(name, checkpoints, state -> projection.codec().encode(state), SAVER,
            task -> executor.execute(guard(task)), this::saved);
    }

    public String name() {
        return name;
    }

    public Projection<S> projection() {
        return projection;
    }

    public ProjectionSettings settings() {
        return settings;
    }

    /** Where the projection is, how far behind, and what went wrong if anything. Cheap; any thread. */
    public ProjectionStatus status() {
        long p = position;
        long lagEvents = lag.events(p);
        Condition c = condition;
        return new ProjectionStatus(name, c.phase(), p, lagEvents, lag.seconds(lagEvents), c.error(), skipped);
    }

    /**
     * Runs {@code reader} on the current state, on the projection's thread between two events, and gives its
     * result (empty when it returns null). Safe with a mutable state, as long as the reader copies what it
     * keeps rather than returning the state itself. Fails with {@code CLOSED} once the runner is closed.
     */
    public <T> Mono<T> query(Function<? super S, ? extends T> reader) {
        Objects.requireNonNull(reader, "reader");
        return onRunner(() -> reader.apply(loadedState()));
    }

    /** The current state encoded by the projection's codec, with the position it reflects. */
    public Mono<ProjectionState> encodedState() {
        return onRunner(() -> new ProjectionState(name, position, projection.codec().contentType(),
            projection.codec().encode(loadedState())));
    }

    /**
     * Resets the projection and replays the log from position 0, while the store keeps running: the initial
     * state is saved at position 0 first (so a crash during the replay restarts it, never mixes old and new),
     * then the runner resubscribes from the start. Completes when the reset is saved; the replay goes on,
     * phase {@code CATCHING_UP} until it reaches the head. Also restarts a FAILED projection.
     */
    public Mono<Void> rebuild() {
        return onRunner(() -> {
            loadedState();
            writer.awaitSaving();
            S fresh = projection.initialState();
            checkpoints.save(name, 0, projection.codec().encode(fresh));
            cancelFeed();
            cancelPending();
            state = fresh;
            position = 0;
            writer.savedAt(0);
            skipped = 0;
            condition = new Condition(Phase.CATCHING_UP, "");
            stateUnreadable = false;
            sourceTrouble = false;
            resubscribes = 0;
            LOG.info("projection '{}': rebuilding from position 0", name);
            subscribe();
            return null;
        }).then();
    }

    /**
     * Starts a FAILED projection again from where it stopped (the event that failed comes first), e.g. once
     * the cause outside it is fixed. Does nothing unless FAILED; fails with {@code INVALID_ARGUMENT} when its
     * saved state did not decode (rebuild it instead).
     */
    public Mono<Void> resume() {
        return onRunner(() -> {
            if (phase() != Phase.FAILED) {
                return null;
            }
            if (stateUnreadable) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "projection '" + name
                    + "' cannot resume: its saved state does not decode; rebuild it instead");
            }
            condition = new Condition(Phase.CATCHING_UP, "");
            attempts = 0;
            LOG.info("projection '{}': resuming from position {}", name, position);
            subscribe();
            return null;
        }).then();
    }

    /**
     * Stops: cancels the subscription, saves state and checkpoint (unless FAILED, whose pair was saved when it
     * failed), releases the thread and the meters. Blocks until done (at most 30 s, for a handler that does
     * not return); call it from any thread but the projection's own. Idempotent.
     */
    public void close() {
        if (Thread.currentThread() == thread) {
            throw new IllegalStateException("projection '" + name + "' cannot be closed from its own thread (a handler or a query)");
        }
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        try {
            Future<?> done = executor.submit(guard(() -> {
                cancelFeed();
                cancelPending();
                cancelTimers();
                if (state != null && phase() != Phase.FAILED && !stateUnreadable) {
                    try {
                        save();
                    } catch (RuntimeException e) {
                        LOG.error("projection '{}': the final save at position {} failed: {}", name, position, e.toString());
                    }
                }
                closed = true;
            }));
            done.get(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            LOG.warn("projection '{}' did not stop within {} s (does a handler block?); closing without a final save", name,
                CLOSE_TIMEOUT_SECONDS);
        } catch (ExecutionException | RejectedExecutionException e) {
            LOG.warn("projection '{}': closing: {}", name, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closed = true;
            condition = new Condition(Phase.STOPPED, condition.error());
            stopThread();
        }
    }

    /**
     * Stops as a killed process would: no final save, the thread interrupted mid-whatever. The checkpoint
     * store keeps the last pair saved. For crash tests.
     */
    void crash() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        closed = true;
        stopThread();
        condition = new Condition(Phase.STOPPED, condition.error());
        CompletableFuture<Void> write = writer.inFlight();
        if (write != null) {
            try {
                write.join();
            } catch (RuntimeException e) {
                // the write died with the runner: the previous pair stays, as after a real crash
            }
        }
    }

    private void stopThread() {
        lag.stop();
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                LOG.warn("projection '{}': its thread did not end", name);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ProjectionFeed f = feed;
        if (f != null) {
            f.cancelUpstream();
        }
        for (Meter m : registered) {
            meters.remove(m);
        }
        registered.clear();
    }

    // ----------------------------------------------------------------------------------------- lifecycle

    void start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("projection '" + name + "' is already started");
        }
        condition = new Condition(Phase.CATCHING_UP, "");
        registerMeters();
        executor.execute(guard(this::load));
    }

    private void load() {
        Optional<CheckpointStore.Checkpoint> saved;
        try {
            saved = checkpoints.load(name);
        } catch (RuntimeException e) {
            state = projection.initialState();
            stateUnreadable = true;
            fail("cannot read its checkpoint in " + checkpoints.directory() + ": " + e.getMessage(), e, false);
            return;
        }
        if (saved.isPresent()) {
            CheckpointStore.Checkpoint cp = saved.get();
            S decoded;
            try {
                decoded = projection.codec().decode(cp.state());
                Objects.requireNonNull(decoded, "the codec decoded a null state");
            } catch (RuntimeException e) {
                state = projection.initialState();
                stateUnreadable = true;
                fail("its saved state at position " + cp.position() + " does not decode (" + e.getMessage()
                    + "); rebuild the projection to start over", e, false);
                return;
            }
            state = decoded;
            position = cp.position();
            LOG.debug("projection '{}': resuming from its checkpoint at position {}", name, cp.position());
        } else {
            state = projection.initialState();
            position = 0;
        }
        writer.savedAt(position);
        lag.headAtLeast(position);
        long save = settings.saveInterval().toMillis();
        saveTimer = executor.scheduleWithFixedDelay(guard(this::timedSave), save, save, TimeUnit.MILLISECONDS);
        lag.start();
        subscribe();
    }

    private void subscribe() {
        cancelFeed();
        ProjectionFeed f = new ProjectionFeed(name, settings.window(), executor, this::drain,
            t -> fail("internal error in the projection runner (please report it): " + t, t, true));
        feed = f;
        condition = new Condition(Phase.CATCHING_UP, condition.error());
        EventFilter filter = projection.filter();
        // A '$' name keeps the runner out of the store's subscription list (its lag is the projection's own); its
        // position is always its own file's, whatever checkpoint someone stored under that name (keepPosition).
        SubscribeOptions options = SubscribeOptions.fromPosition(position).filter(filter).name("$projection-" + name).keepPosition();
        if (!filter.isNone()) {
            options = options.checkpointInterval(settings.checkpointInterval());
        }
        Flux<SubscriptionMessage> messages;
        try {
            messages = source.subscribe(options);
        } catch (RuntimeException e) {
            f.onError(e);
            return;
        }
        messages.subscribe(f);
    }

    private void cancelFeed() {
        ProjectionFeed f = feed;
        if (f != null) {
            feed = null;
            f.cancel();
        }
    }

    private void cancelPending() {
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
        retryPending = false;
        attempts = 0;
    }

    private void cancelTimers() {
        if (saveTimer != null) {
            saveTimer.cancel(false);
        }
    }

    // ---------------------------------------------------------------------------------------- applying

    /** Applies what {@code f} delivered; false when it yields to queued tasks (queries, timers) with messages left. */
    private boolean drain(ProjectionFeed f) {
        if (f != feed || closed || retryPending || phase() == Phase.FAILED) {
            return true;
        }
        int window = settings.window();
        for (int n = 0; ; n++) {
            boolean terminated = f.done;
            SubscriptionMessage m = f.queue.peek();
            if (m == null) {
                if (terminated) {
                    sourceEnded(f);
                }
                return true;
            }
            if (n == window) {
                return false;
            }
            if (!f.receivedAny) {
                f.receivedAny = true;
                resubscribes = 0;
                if (sourceTrouble) {
                    sourceTrouble = false;
                    condition = new Condition(phase(), "");
                }
            }
            if (m instanceof SubscriptionMessage.Event e) {
                if (!apply(f, e.event())) {
                    return true;
                }
            } else {
                long next = m.nextPosition();
                if (next > position) {
                    position = next;
                }
                if (m instanceof SubscriptionMessage.CaughtUp) {
                    f.caughtUp = true;
                    lag.headAtLeast(next);
                    Condition c = condition;
                    if (c.phase() == Phase.CATCHING_UP) {
                        condition = new Condition(Phase.RUNNING, c.error());
                    }
                }
            }
            f.queue.poll();
            if (++f.consumed >= replenishAt) {
                f.request(f.consumed);
                f.consumed = 0;
            }
            if (writer.eventsSinceSave() >= settings.saveEvery()) {
                saveInBackground();
            }
        }
    }

    /** True when the event is done with (applied, already applied, or skipped); false to stop draining. */
    private boolean apply(ProjectionFeed f, RecordedEvent event) {
        long p = event.position();
        if (p < position) {
            return true;
        }
        S next;
        try {
            next = projection.apply(state, event);
        } catch (Exception e) {
            return handlerFailed(f, event, e);
        }
        state = next;
        position = p + 1;
        applied++;
        writer.applied();
        if (attempts > 0) {
            attempts = 0;
            if (phase() == Phase.RETRYING) {
                condition = new Condition(f.caughtUp ? Phase.RUNNING : Phase.CATCHING_UP, "");
            }
        }
        return true;
    }

    private boolean handlerFailed(ProjectionFeed f, RecordedEvent event, Exception e) {
        attempts++;
        FailurePolicy policy = settings.failurePolicy();
        String what = "the " + event.type() + " handler failed at position " + event.position() + " (" + event.stream() + "@"
            + event.revision() + "): " + e;
        if (attempts <= policy.retries()) {
            Duration wait = policy.backoff(attempts);
            String error = what + "; retry " + attempts + " of " + policy.retries() + " in " + wait.toMillis() + " ms";
            condition = new Condition(Phase.RETRYING, error);
            LOG.warn("projection '{}': {}", name, error);
            retryPending = true;
            pending = executor.schedule(guard(() -> {
                pending = null;
                retryPending = false;
                f.schedule();
            }), wait.toMillis(), TimeUnit.MILLISECONDS);
            return false;
        }
        String tries = attempts > 1 ? " (" + attempts + " attempts)" : "";
        attempts = 0;
        if (policy.skips()) {
            skipped++;
            String error = "skipped the event at position " + event.position() + tries + ": " + what;
            condition = new Condition(phase() == Phase.RETRYING ? (f.caughtUp ? Phase.RUNNING : Phase.CATCHING_UP) : phase(), error);
            LOG.warn("projection '{}': {}", name, error, e);
            position = event.position() + 1;
            writer.applied();
            return true;
        }
        fail(what + tries, e, true);
        return false;
    }

    private void sourceEnded(ProjectionFeed f) {
        if (f != feed) {
            return;
        }
        feed = null;
        Throwable t = f.failure;
        if (t instanceof ReelException re && (re.code() == ErrorCode.INVALID_ARGUMENT || re.code() == ErrorCode.UNAUTHORIZED
            || re.code() == ErrorCode.NOT_FOUND)) {
            fail("the source refused the subscription: " + re.getMessage(), re, true);
            return;
        }
        resubscribes++;
        Duration wait = resubscribeBackoff(resubscribes);
        String why = t == null ? "the source ended the subscription" : "the subscription failed: "
            + (t instanceof ReelException ? t.getMessage() : t.toString());
        String error = why + "; resubscribing from position " + position + " in " + wait.toMillis() + " ms";
        condition = new Condition(Phase.CATCHING_UP, error);
        sourceTrouble = true;
        LOG.warn("projection '{}': {}", name, error);
        pending = executor.schedule(guard(() -> {
            pending = null;
            subscribe();
        }), wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    private Duration resubscribeBackoff(int attempt) {
        Duration d = settings.resubscribeMin();
        for (int i = 1; i < attempt && d.compareTo(settings.resubscribeMax()) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(settings.resubscribeMax()) > 0 ? settings.resubscribeMax() : d;
    }

    private void fail(String reason, Throwable cause, boolean save) {
        cancelFeed();
        cancelPending();
        String message = reason;
        if (save) {
            try {
                save();
            } catch (RuntimeException e) {
                message = reason + "; and saving its state at position " + position + " failed: " + e.getMessage();
            }
        }
        condition = new Condition(Phase.FAILED, message);
        if (closed) {
            LOG.debug("projection '{}' failed while closing: {}", name, message);
        } else {
            LOG.error("projection '{}' stopped at position {}: {}", name, position, message, cause);
        }
    }

    // ----------------------------------------------------------------------------------------- saving

    /**
     * Saves state and checkpoint together when the position moved since the last save, and returns once they
     * are on disk; throws on failure. Waits for a background save first, so saves land in position order.
     */
    private void save() {
        writer.save(position, state);
    }

    /**
     * Encodes the state here (a consistent pair with the position) and writes it on another thread, so the
     * handlers go on during the file write and its forces. One save at a time: a save due while one is in flight
     * starts when that one completes. A failed save (a full disk, an I/O error) does not stop the projection: its
     * state in memory is still exact, the status carries the error, and the next timed save tries again, so the
     * projection recovers by itself once the disk does; only the window re-applied after a crash grows.
     */
    private void saveInBackground() {
        long p = position;
        try {
            writer.saveInBackground(p, state);
        } catch (RuntimeException e) {
            fail("cannot encode its state at position " + p + ": " + e, e, false);
        }
    }

    /** A background save ended (on the runner's thread). */
    private void saved(long p, Throwable error) {
        if (error == null) {
            Condition c = condition;
            if (c.error().startsWith(SAVE_FAILED)) {
                LOG.info("projection '{}' saved its state again at position {}", name, p);
                condition = new Condition(c.phase(), "");
            }
            if (writer.eventsSinceSave() >= settings.saveEvery() && !closed && phase() != Phase.FAILED) {
                saveInBackground();
            }
        } else if (!closed && phase() != Phase.FAILED) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            String note = SAVE_FAILED + " at position " + p + " (" + cause.getMessage() + "); it goes on and tries again every "
                + settings.saveInterval().toMillis() + " ms";
            if (!condition.error().startsWith(SAVE_FAILED)) {
                LOG.warn("projection '{}' {}", name, note);
            }
            condition = new Condition(phase(), note);
        }
    }

    private void timedSave() {
        if (!closed && state != null && phase() != Phase.FAILED) {
            saveInBackground();
        }
    }

    // ------------------------------------------------------------------------------------------- meters

    private void registerMeters() {
        Tags tags = Tags.of("name", name);
        registered.add(Gauge.builder("reel.projection.position", this, r -> r.position).tags(tags).strongReference(true)
            .description("The next position the projection applies").register(meters));
        registered.add(Gauge.builder("reel.projection.lag.events", this, r -> r.status().lagEvents()).tags(tags).strongReference(true)
            .description("Records between the projection and the head").register(meters));
        registered.add(Gauge.builder("reel.projection.lag.seconds", this, r -> r.status().lagSeconds()).tags(tags).strongReference(true)
            .baseUnit("seconds").description("How long the oldest record the projection has not applied has waited").register(meters));
        registered.add(Gauge.builder("reel.projection.failed", this, r -> r.phase() == Phase.FAILED ? 1 : 0).tags(tags)
            .strongReference(true).description("1 when the projection stopped on an error").register(meters));
        registered.add(FunctionCounter.builder("reel.projection.events", this, r -> r.applied).tags(tags)
            .description("Events applied by the projection").register(meters));
        registered.add(FunctionCounter.builder("reel.projection.skipped", this, r -> r.skipped).tags(tags)
            .description("Events skipped after handler failures").register(meters));
    }

    // ----------------------------------------------------------------------------------------- helpers

    private Phase phase() {
        return condition.phase();
    }

    /** Phase and error, replaced together so that a status never pairs one phase with another's error. */
    private static final String SAVE_FAILED = "cannot save its state and checkpoint";

    private record Condition(Phase phase, String error) {
    }

    private S loadedState() {
        if (state == null) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "projection '" + name + "' is not started");
        }
        return state;
    }

    private ReelException closedError() {
        return new ReelException(ErrorCode.CLOSED, "projection '" + name + "' is closed");
    }

    /** A task on the runner's thread, as a Mono that completes there. */
    private <T> Mono<T> onRunner(Callable<T> task) {
        return Mono.create(sink -> {
            try {
                executor.execute(() -> {
                    if (closed) {
                        sink.error(closedError());
                        return;
                    }
                    T value;
                    try {
                        value = task.call();
                    } catch (Throwable e) {
                        Exceptions.throwIfJvmFatal(e);
                        sink.error(e);
                        return;
                    }
                    if (value == null) {
                        sink.success();
                    } else {
                        sink.success(value);
                    }
                });
            } catch (RejectedExecutionException e) {
                sink.error(closedError());
            }
        });
    }

    /** A task whose unexpected failure stops the projection visibly instead of vanishing in the executor. */
    private Runnable guard(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable t) {
                Exceptions.throwIfJvmFatal(t);
                fail("internal error in the projection runner (please report it): " + t, t, true);
            }
        };
    }

    @Override
    public String toString() {
        return "ProjectionRunner{" + status() + "}";
    }
}
