package io.reel.aggregate;

import com.google.protobuf.Message;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.reel.aggregate.internal.AggregateLoader;
import io.reel.aggregate.internal.Image;
import io.reel.aggregate.internal.SnapshotStore;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.WrongExpectedVersionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Handles commands to the aggregates of one type: load, decide, append, evolve, answer.
 *
 * <pre>{@code
 * AggregateRepository<TaskState, TaskCommand> tasks = AggregateRepository.create(store, new TaskAggregate());
 * tasks.handle("42", new ScheduleTask("42", "dr-ada", "Calibrate the microscope", due))
 *      .subscribe(result -> ...);   // Accepted (events durable) or Rejected (with the aggregate's reason)
 * }</pre>
 *
 * <h2>How a command runs</h2>
 * <ol>
 *   <li>The aggregate's image (state and revision) comes from a bounded LRU cache of live aggregates, else from
 *       the log: its latest snapshot plus the events after it.</li>
 *   <li>{@link Aggregate#decide} turns the command into events or a rejection, and {@link Aggregate#evolve}
 *       applies the events to a working copy of the state.</li>
 *   <li>The events are appended with the image's revision as the expected revision. Once they are durable the
 *       working state becomes the image and the command completes with {@link CommandResult.Accepted}.</li>
 *   <li>A command that writes nothing (a rejection, an accepted no-op, {@link #state}) is checked against the
 *       log first: if the stream has moved on (another writer), the image catches up and the command is decided
 *       again, so a rejection never rests on a stale cache.</li>
 * </ol>
 *
 * <h2>Concurrency</h2>
 * Commands to one aggregate run one after the other, in the order they were subscribed; commands to different
 * aggregates run in parallel. Commands that queue up behind a running one are decided one after the other on
 * the evolving state and written in one append (at most {@link Builder#maxCommandsPerAppend}), so a busy
 * aggregate pays one durable write per group, not per command; such a group succeeds or fails as a whole.
 * When another writer appended to the stream first ({@code WRONG_EXPECTED_VERSION}), the image catches up
 * with the log and the commands are decided again, at most {@link Builder#conflictRetries} times; after that
 * they fail with the {@link WrongExpectedVersionException}.
 *
 * <h2>Threads</h2>
 * Nothing blocks. {@code decide} runs on the subscribing thread when the image is cached, on a store reader
 * thread after a load, or on {@code Schedulers.parallel()} for queued commands. Results are signalled on the
 * store's acknowledging thread (or a reader thread when nothing was written): keep the subscriber cheap there, or
 * {@code publishOn} elsewhere. Each subscription to a returned {@code Mono} submits its command once; cancelling
 * it before the command is decided withdraws the command, later it does not undo the append.
 *
 * <p>Thread-safe.
 */
public final class AggregateRepository<S, C> {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.]+");
    private static final Object READ = new Object();
    private static final long MAX_BYTES_PER_APPEND = 4L * 1024 * 1024;

    private final EventStore store;
    private final Aggregate<S, C> aggregate;
    private final EventTypes types;
    private final AggregateLoader<S> loader;
    private final int cacheSize;
    private final int conflictRetries;
    private final int maxCommandsPerAppend;
    private final int maxEventsPerAppend;
    private final Duration conflictPatience;
    private final Scheduler continuations = Schedulers.parallel();
    private final LinkedHashMap<String, Entity> cache = new LinkedHashMap<>(64, 0.75f, true);
    private final Counter accepted;
    private final Counter rejected;
    private final Counter failed;
    private final Counter conflicts;

    private AggregateRepository(Builder<S, C> b) {
        this.store = b.store;
        this.aggregate = b.aggregate;
        this.types = Objects.requireNonNull(aggregate.eventTypes(), "aggregate.eventTypes()");
        StateCodec<S> codec = aggregate.stateCodec();
        MeterRegistry registry = store.settings().meterRegistry();
        SnapshotStore snapshots = codec != null && b.readSnapshots
            ? new SnapshotStore(store.directory(), aggregate.name(), codec.schemaVersion(), registry) : null;
        this.loader = new AggregateLoader<>(store, aggregate, snapshots);
        this.cacheSize = b.cacheSize;
        this.conflictRetries = b.conflictRetries;
        this.maxCommandsPerAppend = b.maxCommandsPerAppend;
        this.maxEventsPerAppend = store.settings().maxEventsPerAppend();
        this.conflictPatience = b.conflictPatience;
        this.accepted = commands(registry, "accepted");
        this.rejected = commands(registry, "rejected");
        this.failed = commands(registry, "failed");
        this.conflicts = Counter.builder("reel.aggregate.conflicts").tag("aggregate", aggregate.name())
            .description("Appends of an aggregate that met another writer's events and were decided again").register(registry);
    }

    private Counter commands(MeterRegistry registry, String outcome) {
        return Counter.builder("reel.aggregate.commands").tag("aggregate", aggregate.name()).tag("outcome", outcome)
            .description("Commands handled by aggregate repositories, by outcome").register(registry);
    }

    /** A repository with default settings. */
    public static <S, C> AggregateRepository<S, C> create(EventStore store, Aggregate<S, C> aggregate) {
        return builder(store, aggregate).build();
    }

    public static <S, C> Builder<S, C> builder(EventStore store, Aggregate<S, C> aggregate) {
        return new Builder<>(store, aggregate);
    }

    public Aggregate<S, C> aggregate() {
        return aggregate;
    }

    /** The stream of the aggregate {@code id}: {@code name + "-" + id}. */
    public String streamOf(String id) {
        return loader.streamOf(id);
    }

    /**
     * Runs {@code command} against the aggregate {@code id}. Completes with {@link CommandResult.Accepted} once
     * its events are durable, or {@link CommandResult.Rejected} with the aggregate's reason (nothing written);
     * fails with a {@link ReelException} on a fault: {@code WRONG_EXPECTED_VERSION} when other writers kept
     * winning after the retries, {@code OVERLOADED}, {@code TOO_LARGE}, {@code IO_ERROR}, {@code CLOSED},
     * {@code NOT_FOUND} for an event type the aggregate does not know, or the exception {@code decide} or
     * {@code evolve} threw.
     */
    public Mono<CommandResult<S>> handle(String id, C command) {
        if (id == null || id.isEmpty()) {
            return Mono.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "the aggregate id is empty; name the "
                + aggregate.name() + " the command is for"));
        }
        if (command == null) {
            return Mono.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "the command to " + aggregate.name() + " '" + id + "' is null"));
        }
        return new CommandMono(id, command);
    }

    /**
     * The aggregate's state as of its latest durable event (its initial state when it has none), read through
     * the same queue as its commands.
     */
    public Mono<S> state(String id) {
        if (id == null || id.isEmpty()) {
            return Mono.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "the aggregate id is empty"));
        }
        return new CommandMono(id, READ).map(CommandResult::state);
    }

    /** Live aggregates in the cache (busy ones may briefly take it past its size). */
    int cachedAggregates() {
        synchronized (cache) {
            return cache.size();
        }
    }

    private void submit(String id, Pending<S> pending) {
        Entity e;
        synchronized (cache) {
            e = cache.get(id);
            if (e == null) {
                e = new Entity(id);
                cache.put(id, e);
            }
            e.queue.offer(pending);
            if (cache.size() > cacheSize) {
                evictIdle();
            }
        }
        if (e.wip.getAndIncrement() == 0) {
            e.drain();
        }
    }

    /**
     * Drops least recently used aggregates that have nothing queued or running, until the cache is back to its
     * size (busy ones are skipped; scanning is bounded, so the cache may stay over size for a moment).
     * Called holding the cache's lock, after the command that made the cache grow was queued; {@link #submit}
     * queues under the same lock, so an evicted aggregate never receives a command (and two live copies of one
     * aggregate never exist in one repository).
     */
    private void evictIdle() {
        Iterator<Entity> it = cache.values().iterator();
        int scanned = 0;
        while (cache.size() > cacheSize && it.hasNext() && scanned++ < 64) {
            Entity e = it.next();
            if (e.wip.get() == 0 && e.queue.isEmpty()) {
                it.remove();
            }
        }
    }

    /** The Mono of one command: each subscription submits it once. */
    private final class CommandMono extends Mono<CommandResult<S>> {
        private final String id;
        private final Object command;

        CommandMono(String id, Object command) {
            this.id = id;
            this.command = command;
        }

        @Override
        public void subscribe(CoreSubscriber<? super CommandResult<S>> actual) {
            Pending<S> pending = new Pending<>(actual, command);
            actual.onSubscribe(pending);
            submit(id, pending);
        }
    }

    /** A command waiting for or going through its aggregate, and what was decided for it in the current round. */
    static final class Pending<S> extends Operators.MonoSubscriber<Object, CommandResult<S>> {
        final Object command;
        List<Message> events;
        int firstEvent;
        String reason;
        RuntimeException error;
        S stateAfter;
        boolean skipped;

        Pending(CoreSubscriber<? super CommandResult<S>> actual, Object command) {
            super(actual);
            this.command = command;
        }

        void reset() {
            events = null;
            firstEvent = 0;
            reason = null;
            error = null;
            stateAfter = null;
            skipped = false;
        }

        /** Completes; a subscriber that throws cannot take the aggregate (or the writer thread) down with it. */
        void succeed(CommandResult<S> result) {
            try {
                complete(result);
            } catch (RuntimeException e) {
                Operators.onErrorDropped(e, actual.currentContext());
            }
        }

        void fail(Throwable t) {
            if (!isCancelled()) {
                try {
                    actual.onError(t);
                } catch (RuntimeException e) {
                    Operators.onErrorDropped(e, actual.currentContext());
                }
            }
        }
    }

    /** What {@link Entity#decideRound()} leaves to do. */
    private enum Next { APPEND, CONFIRM, ANSWER }

    /**
     * One live aggregate: its image and its queue of commands. Commands are serialised by a work-in-progress
     * counter: the submitter that moves it from 0 owns the aggregate and drains the queue, across asynchronous
     * steps (load, append, catch-up), until the counter says nothing is left. Fields below the queue are touched
     * only by the current owner; ownership passes through the counter and Reactor signals, which order memory.
     */
    private final class Entity implements CoreSubscriber<AppendResult> {
        final String id;
        final String stream;
        final ConcurrentLinkedQueue<Pending<S>> queue = new ConcurrentLinkedQueue<>();
        final AtomicInteger wip = new AtomicInteger();
        private final Runnable drainTask = this::drain;

        private Image<S> image;
        private final ArrayList<Pending<S>> batch = new ArrayList<>();
        private final ArrayList<EventData> events = new ArrayList<>();
        private int round;
        private int done;
        private int attempts;
        private int solo;
        private boolean fresh;
        private boolean stale;
        private S working;
        private AppendResult appended;

        Entity(String id) {
            this.id = id;
            this.stream = loader.streamOf(id);
        }

        /** Runs rounds while they complete synchronously; returns when an asynchronous step takes over or nothing is left. */
        void drain() {
            for (;;) {
                if (batch.isEmpty()) {
                    Pending<S> p;
                    while (batch.size() < maxCommandsPerAppend && (p = queue.poll()) != null) {
                        if (p.isCancelled()) {
                            done++;
                        } else {
                            batch.add(p);
                        }
                    }
                    if (batch.isEmpty()) {
                        if (release()) {
                            return;
                        }
                        continue;
                    }
                }
                if (image == null) {
                    load();
                    return;
                }
                if (stale) {
                    stale = false;
                    loader.catchUp(id, image).subscribe(this::resume, this::failRound);
                    return;
                }
                Next next = decideRound();
                if (next == Next.APPEND) {
                    append();
                    return;
                }
                if (next == Next.CONFIRM && !fresh) {
                    confirm();
                    return;
                }
                answer(image.revision() + 1, -1);
                if (!endRound()) {
                    return;
                }
            }
        }

        /** Gives ownership back when nothing is left; false when more commands arrived meanwhile. */
        private boolean release() {
            int finished = done;
            done = 0;
            return wip.addAndGet(-finished) <= 0;
        }

        /** Ends the current round; true when the caller should go on draining (the aggregate is still owned). */
        private boolean endRound() {
            batch.subList(0, round).clear();
            done += round;
            round = 0;
            events.clear();
            working = null;
            attempts = 0;
            fresh = false;
            if (!batch.isEmpty()) {
                return true;
            }
            return !release();
        }

        /** Ends the round from an asynchronous completion: goes on, if needed, on another thread. */
        private void endRoundLater() {
            if (endRound()) {
                continuations.schedule(drainTask);
            }
        }

        /** Decides the commands of the next round on the image's state; says what the round needs next. */
        @SuppressWarnings("unchecked")
        private Next decideRound() {
            events.clear();
            S state = image.state();
            long bytes = 0;
            int limit = solo > 0 ? 1 : batch.size();
            boolean answers = false;
            round = 0;
            for (int i = 0; i < limit; i++) {
                Pending<S> p = batch.get(i);
                p.reset();
                if (p.isCancelled()) {
                    p.skipped = true;
                    round++;
                    continue;
                }
                if (p.command == READ) {
                    p.stateAfter = state;
                    p.firstEvent = events.size();
                    answers = true;
                    round++;
                    continue;
                }
                Decision d;
                try {
                    d = Objects.requireNonNull(aggregate.decide(state, (C) p.command), "decide returned null");
                } catch (RuntimeException ex) {
                    p.error = ex;
                    round++;
                    continue;
                }
                if (d.isRejected()) {
                    p.reason = d.reason();
                    p.stateAfter = state;
                    p.firstEvent = events.size();
                    answers = true;
                    round++;
                    continue;
                }
                List<Message> produced = d.events();
                if (!events.isEmpty() && (events.size() + produced.size() > maxEventsPerAppend || bytes >= MAX_BYTES_PER_APPEND)) {
                    break;
                }
                int mark = events.size();
                S before = state;
                try {
                    for (int j = 0; j < produced.size(); j++) {
                        Message m = produced.get(j);
                        EventData data = types.encode(m);
                        events.add(data);
                        bytes += data.data().length;
                        state = Objects.requireNonNull(aggregate.evolve(state, m), "evolve returned null");
                    }
                } catch (RuntimeException ex) {
                    events.subList(mark, events.size()).clear();
                    state = before;
                    p.error = ex;
                    round++;
                    continue;
                }
                p.events = produced;
                p.firstEvent = mark;
                p.stateAfter = state;
                answers = true;
                round++;
            }
            working = state;
            if (!events.isEmpty()) {
                return Next.APPEND;
            }
            return answers ? Next.CONFIRM : Next.ANSWER;
        }

        private void append() {
            long revision = image.revision();
            store.append(stream, revision < 0 ? ExpectedRevision.NO_STREAM : ExpectedRevision.exactly(revision), events)
                .subscribe(this);
        }

        @Override
        public void onSubscribe(Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(AppendResult result) {
            appended = result;
        }

        @Override
        public void onComplete() {
            AppendResult r = appended;
            appended = null;
            if (r == null) {
                failRound(new ReelException(ErrorCode.INTERNAL, "the append to '" + stream + "' completed without a result"));
                return;
            }
            long firstRevision = r.nextExpectedRevision() - events.size() + 1;
            image = new Image<>(working, r.nextExpectedRevision(), r.lastPosition());
            solo = Math.max(0, solo - round);
            answer(firstRevision, r.firstPosition());
            endRoundLater();
        }

        @Override
        public void onError(Throwable t) {
            appended = null;
            if (t instanceof WrongExpectedVersionException conflict && attempts < conflictRetries) {
                attempts++;
                conflicts.increment();
                loader.catchUpTo(id, image, conflict.actualRevision(), conflictPatience).subscribe(this::resume, this::failRound);
                return;
            }
            if (round > 1 && t instanceof ReelException e && (e.code() == ErrorCode.TOO_LARGE || e.code() == ErrorCode.INVALID_ARGUMENT)) {
                solo = round;
                continuations.schedule(drainTask);
                return;
            }
            failRound(t);
        }

        /** The image caught up with the log: decide the round again. */
        private void resume(Image<S> caughtUp) {
            image = caughtUp;
            fresh = true;
            drain();
        }

        private void load() {
            round = batch.size();
            loader.load(id).subscribe(loaded -> {
                round = 0;
                image = loaded;
                fresh = true;
                drain();
            }, this::failRound);
        }

        /** Checks a round that writes nothing against the log: answers it, or decides it again on newer events. */
        private void confirm() {
            loader.catchUp(id, image).subscribe(latest -> {
                if (latest.revision() == image.revision()) {
                    answer(image.revision() + 1, -1);
                    endRoundLater();
                } else {
                    resume(latest);
                }
            }, this::failRound);
        }

        /**
         * Completes the round's commands. Command i's events sit at revisions and positions counted from
         * {@code firstRevision} and {@code firstPosition} by its offset among the round's events.
         */
        private void answer(long firstRevision, long firstPosition) {
            for (int i = 0; i < round; i++) {
                Pending<S> p = batch.get(i);
                if (p.skipped) {
                    continue;
                }
                if (p.error != null) {
                    failed.increment();
                    p.fail(p.error);
                    continue;
                }
                int count = p.events == null ? 0 : p.events.size();
                long revision = firstRevision + p.firstEvent + count - 1;
                if (p.reason != null) {
                    rejected.increment();
                    p.succeed(new CommandResult.Rejected<>(stream, p.reason, revision, p.stateAfter));
                } else {
                    accepted.increment();
                    long position = count == 0 ? -1 : firstPosition + p.firstEvent + count - 1;
                    p.succeed(new CommandResult.Accepted<>(stream, count == 0 ? List.of() : p.events, revision, position, p.stateAfter));
                }
            }
        }

        /** Fails every command of the round with {@code t}; the image is dropped unless {@code t} says nothing was written. */
        private void failRound(Throwable t) {
            if (round == 0) {
                round = batch.size();
            }
            if (!(t instanceof ReelException e) || !nothingWritten(e.code())) {
                image = null;
            } else if (e.code() == ErrorCode.WRONG_EXPECTED_VERSION) {
                stale = true;
            }
            solo = Math.max(0, solo - round);
            for (int i = 0; i < round; i++) {
                Pending<S> p = batch.get(i);
                if (!p.skipped) {
                    failed.increment();
                    p.fail(p.error != null ? p.error : t);
                }
            }
            endRoundLater();
        }
    }

    private static boolean nothingWritten(ErrorCode code) {
        return switch (code) {
            case WRONG_EXPECTED_VERSION, OVERLOADED, TOO_LARGE, INVALID_ARGUMENT, STREAM_DELETED, CLOSED -> true;
            default -> false;
        };
    }

    /** The settings of a repository; defaults work out of the box. */
    public static final class Builder<S, C> {
        private final EventStore store;
        private final Aggregate<S, C> aggregate;
        private int cacheSize = 10_000;
        private int conflictRetries = 5;
        private int maxCommandsPerAppend = 64;
        private boolean readSnapshots = true;
        private Duration conflictPatience = Duration.ofSeconds(1);

        private Builder(EventStore store, Aggregate<S, C> aggregate) {
            this.store = Objects.requireNonNull(store, "store");
            this.aggregate = Objects.requireNonNull(aggregate, "aggregate");
        }

        /** Live aggregates kept in memory (least recently used ones are dropped first; default 10,000). */
        public Builder<S, C> cacheSize(int aggregates) {
            cacheSize = aggregates;
            return this;
        }

        /** Times a command is decided again after another writer appended first (default 5). */
        public Builder<S, C> conflictRetries(int retries) {
            conflictRetries = retries;
            return this;
        }

        /** Queued commands of one aggregate decided together and written in one append (default 64; 1 turns grouping off). */
        public Builder<S, C> maxCommandsPerAppend(int commands) {
            maxCommandsPerAppend = commands;
            return this;
        }

        /** Whether loads start from snapshots (default true; the aggregate needs a {@link StateCodec}). */
        public Builder<S, C> readSnapshots(boolean value) {
            readSnapshots = value;
            return this;
        }

        /** How long, at most, a conflict waits for the other writer's events to become readable (default 1 s). */
        public Builder<S, C> conflictPatience(Duration patience) {
            conflictPatience = Objects.requireNonNull(patience, "conflictPatience");
            return this;
        }

        public AggregateRepository<S, C> build() {
            checkName(aggregate.name());
            require(cacheSize > 0, "cacheSize " + cacheSize + " must be positive");
            require(conflictRetries >= 0, "conflictRetries " + conflictRetries + " must not be negative");
            require(maxCommandsPerAppend > 0, "maxCommandsPerAppend " + maxCommandsPerAppend + " must be positive");
            require(!conflictPatience.isNegative(), "conflictPatience " + conflictPatience + " must not be negative");
            return new AggregateRepository<>(this);
        }
    }

    static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "aggregate name '" + name
                + "' must be letters, digits, '_' or '.' (no '-': streams are named '<name>-<id>')");
        }
    }

    private static void require(boolean condition, String sentence) {
        if (!condition) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, sentence);
        }
    }
}
