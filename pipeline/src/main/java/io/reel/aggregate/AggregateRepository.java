package io.reel.aggregate;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.reel.aggregate.internal.AggregateLoader;
import io.reel.aggregate.internal.Image;
import io.reel.aggregate.internal.SnapshotStore;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventStore;
import io.reel.store.ReelException;
import io.reel.store.WrongExpectedVersionException;
import java.time.Duration;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
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
 *       the log: its latest snapshot plus the events after it. A cached image is checked again when
 *       {@link EventStore#metadataChanges()} has moved, and reloaded when its stream was deleted or truncated.</li>
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
 * <p>The per-aggregate decisions (decide a round, evolve on success, what a conflict or a failure means) are the
 * pure {@link AggregateActor}; this class keeps the cache, the queues, the ownership of each aggregate and the
 * calls to the store.
 *
 * <p>Thread-safe.
 */
public final class AggregateRepository<S, C> {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.]+");
    private static final Object READ = AggregateActor.READ;

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

    /** Commands one aggregate holds waiting; beyond, a command fails at once with {@code OVERLOADED} (its queue stays bounded). */
    static final int MAX_QUEUED_PER_AGGREGATE = 10_000;

    private void submit(String id, Pending<S> pending) {
        Entity e;
        synchronized (cache) {
            e = cache.get(id);
            if (e == null) {
                e = new Entity(id);
                cache.put(id, e);
            }
            if (e.queued.incrementAndGet() > MAX_QUEUED_PER_AGGREGATE) {
                e.queued.decrementAndGet();
                e = null;
            } else {
                e.queue.offer(pending);
            }
            if (cache.size() > cacheSize) {
                evictIdle();
            }
        }
        if (e == null) {
            pending.fail(new io.reel.store.ReelException(io.reel.store.ErrorCode.OVERLOADED, "aggregate '" + id + "' already has "
                + MAX_QUEUED_PER_AGGREGATE + " commands waiting; it takes them one append at a time, retry after a short pause"));
            return;
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

    /** A command waiting for or going through its aggregate. */
    static final class Pending<S> extends Operators.MonoSubscriber<Object, CommandResult<S>> {
        final Object command;

        Pending(CoreSubscriber<? super CommandResult<S>> actual, Object command) {
            super(actual);
            this.command = command;
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
        /** Commands in {@link #queue}: at most {@link #MAX_QUEUED_PER_AGGREGATE}. */
        final AtomicInteger queued = new AtomicInteger();
        final AtomicInteger wip = new AtomicInteger();
        private final Runnable drainTask = this::drain;

        private final AggregateActor<S, C> actor = new AggregateActor<>(aggregate, types, maxEventsPerAppend, conflictRetries);
        private final ArrayList<Pending<S>> batch = new ArrayList<>();
        private final List<Object> commands = new AbstractList<>() {
            @Override
            public Object get(int index) {
                return batch.get(index).command;
            }

            @Override
            public int size() {
                return batch.size();
            }
        };
        private final IntPredicate cancelled = i -> batch.get(i).isCancelled();
        private int done;
        private AppendResult appended;
        /** The store's metadata change count when the image's truncation point was last read. */
        private long seenChanges;
        /** The stream's truncation point the image was folded under: a delete or truncation moves it. */
        private long truncateBefore;

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
                        queued.decrementAndGet();
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
                if (actor.image() == null) {
                    load();
                    return;
                }
                if (seenChanges != store.metadataChanges()) {
                    checkTruncation();
                    return;
                }
                if (actor.takeStale()) {
                    loader.catchUp(id, actor.image()).subscribe(this::resume, this::failRound);
                    return;
                }
                AggregateActor.Next next = actor.decide(commands, cancelled);
                if (next == AggregateActor.Next.APPEND) {
                    append();
                    return;
                }
                if (next == AggregateActor.Next.CONFIRM && !actor.fresh()) {
                    confirm();
                    return;
                }
                answer(actor.unwrittenRevision(), -1);
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
            int round = actor.round();
            batch.subList(0, round).clear();
            done += round;
            actor.endRound();
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

        private void append() {
            store.append(stream, actor.expected(), actor.events()).subscribe(this);
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
            answer(actor.appended(r), r.firstPosition());
            endRoundLater();
        }

        @Override
        public void onError(Throwable t) {
            appended = null;
            switch (actor.appendFailed(t)) {
                case RELOAD -> {
                    conflicts.increment();
                    long actual = ((WrongExpectedVersionException) t).actualRevision();
                    loader.catchUpTo(id, actor.image(), actual, conflictPatience).subscribe(this::resume, this::failRound);
                }
                case SOLO -> continuations.schedule(drainTask);
                case FAIL -> failRound(t);
            }
        }

        /** The image caught up with the log: decide the round again. */
        private void resume(Image<S> caughtUp) {
            actor.loaded(caughtUp);
            drain();
        }

        private void load() {
            actor.loading(batch.size());
            long changes = store.metadataChanges();
            store.streamMetadata(stream).flatMap(metadata -> {
                truncateBefore = metadata.truncateBefore();
                seenChanges = changes;
                return loader.load(id);
            }).subscribe(loaded -> {
                actor.loadDone();
                actor.loaded(loaded);
                drain();
            }, this::failRound);
        }

        /**
         * Some stream's metadata changed since the image was checked: if this stream was soft-deleted or truncated,
         * the image folds events the stream no longer shows, and it is loaded again (a recreated aggregate starts
         * from its initial state); otherwise it is kept.
         */
        private void checkTruncation() {
            long changes = store.metadataChanges();
            store.streamMetadata(stream).subscribe(metadata -> {
                seenChanges = changes;
                if (metadata.truncateBefore() != truncateBefore) {
                    actor.forget();
                }
                drain();
            }, this::failRound);
        }

        /** Checks a round that writes nothing against the log: answers it, or decides it again on newer events. */
        private void confirm() {
            loader.catchUp(id, actor.image()).subscribe(latest -> {
                if (latest.revision() == actor.image().revision()) {
                    answer(actor.unwrittenRevision(), -1);
                    endRoundLater();
                } else {
                    resume(latest);
                }
            }, this::failRound);
        }

        /** Completes the round's commands with what the actor decided for them. */
        private void answer(long firstRevision, long firstPosition) {
            for (int i = 0; i < actor.round(); i++) {
                Pending<S> p = batch.get(i);
                AggregateActor.Verdict<S> verdict = actor.verdict(i);
                if (verdict instanceof AggregateActor.Failed<S> f) {
                    failed.increment();
                    p.fail(f.error());
                } else if (verdict instanceof AggregateActor.Answered<S> a) {
                    CommandResult<S> result = AggregateActor.result(a, stream, firstRevision, firstPosition);
                    (result instanceof CommandResult.Rejected ? rejected : accepted).increment();
                    p.succeed(result);
                }
            }
        }

        /** Fails every command of the round with {@code t}; the image is dropped unless {@code t} says nothing was written. */
        private void failRound(Throwable t) {
            int round = actor.roundFailed(t, batch.size());
            for (int i = 0; i < round; i++) {
                Pending<S> p = batch.get(i);
                AggregateActor.Verdict<S> verdict = actor.verdict(i);
                if (!(verdict instanceof AggregateActor.Skipped)) {
                    failed.increment();
                    p.fail(verdict instanceof AggregateActor.Failed<S> f ? f.error() : t);
                }
            }
            endRoundLater();
        }
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
