package io.reel.store.groups;

import com.google.protobuf.InvalidProtocolBufferException;
import io.reel.proto.GroupProgress;
import io.reel.proto.GroupState;
import io.reel.store.CheckpointStore;
import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.ReelException;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import io.reel.store.internal.log.LogFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * One persistent subscription group: reads its records from the log and hands them out to the consumers
 * that joined it, with acknowledgement, retry on nack or timeout, and parking after too many retries.
 *
 * <p>Ordering: at most one event of a stream is in flight at a time, so per-stream order holds while
 * different streams run on different consumers in parallel; a stream stays with the consumer that handled it
 * last while it has work (affinity). When a consumer leaves, its in-flight events go back to the front of
 * their streams' queues and are handed to the others.
 *
 * <p>Checkpoint: the lowest position not yet done (acknowledged, skipped or parked), saved with the parked
 * positions every 200 ms when it changed and on close. After a restart the group resumes from it, so the
 * at-least-once window is the events acknowledged above the oldest unacknowledged one.
 *
 * <p>The bookkeeping (queues, in flight, acks, retries, parking, the checkpoint) is the pure {@link GroupLedger};
 * this class is its plumbing: the loop thread, the upstream subscription, timers, delivery and persistence.
 *
 * <p>Threading: all state lives on the group's own thread; consumers, acknowledgements and the upstream
 * subscription post to it. Deliveries are signalled on it: do the work elsewhere. Memory: at most
 * {@value #BUFFER} events are read ahead of the consumers.
 */
final class GroupDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(GroupDispatcher.class);
    static final int BUFFER = 1024;
    private static final long SAVE_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final EventStore store;
    private final CheckpointStore stateStore;
    /** In a cluster: where the progress goes (through Raft) instead of {@code stateStore}; null standalone. */
    private final java.util.function.Function<GroupProgress, reactor.core.publisher.Mono<Void>> replicate;
    private final long incarnation;
    private final Scheduler loop;
    private final Disposable ticker;

    /* Loop thread only. */
    private GroupOptions options;
    private final GroupLedger<ConsumerHandle> ledger;
    private long requestedUpstream;
    private Upstream upstream;
    private long lastSaveNanos;
    /** Cluster only: a progress entry is on its way (one at a time), and whether a later change waits to be sent. */
    private boolean saving;
    private boolean unsaved;
    private boolean closed;
    /** Why the group closed: the error a consumer joining too late gets (NOT_LEADER after a step-down, NOT_FOUND after a delete). */
    private volatile ReelException closedWith;
    /** Consumers whose join is posted but not yet run: a join the closing loop never runs ends with {@link #closedWith}. */
    private final java.util.Set<ConsumerHandle> joining = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile GroupStatus status;
    private final AtomicLong consumerIds = new AtomicLong();

    GroupDispatcher(EventStore store, CheckpointStore stateStore, java.util.function.Function<GroupProgress, reactor.core.publisher.Mono<Void>> replicate,
                    GroupOptions options, long checkpoint, List<Long> parkedPositions, long incarnation) {
        this.store = store;
        this.incarnation = incarnation;
        this.stateStore = stateStore;
        this.replicate = replicate;
        this.options = options;
        this.ledger = new GroupLedger<>(checkpoint, parkedPositions);
        this.loop = Schedulers.newSingle("reel-group-" + options.name(), true);
        this.status = new GroupStatus(options.name(), options.filter().toString(), checkpoint, 0, 0, 0, ledger.parkedCount(), List.of());
        loop.schedule(this::subscribeUpstream);
        long tick = Math.max(50, Math.min(1000, options.ackTimeout().toMillis() / 4));
        this.ticker = loop.schedulePeriodically(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    }

    /** Reads a stored group: its options, checkpoint and parked positions. */
    static Optional<Stored> load(CheckpointStore states, String name) {
        return states.load(name).flatMap(c -> {
            try {
                GroupState state = GroupState.parseFrom(c.state());
                return Optional.of(new Stored(GroupCodec.fromStored(state.getSettings()), c.position(), state.getParkedList(),
                    state.getIncarnation()));
            } catch (InvalidProtocolBufferException | ReelException e) {
                LOG.warn("ignoring the stored group '{}': {}", name, e.getMessage());
                return Optional.empty();
            }
        });
    }

    /** The group's own in-flight limit per consumer. */
    int maxInFlight() {
        return options.maxInFlight();
    }

    /** A stored group; {@code incarnation} tells a group apart from one of the same name deleted before it (cluster). */
    record Stored(GroupOptions options, long checkpoint, List<Long> parked, long incarnation) {
    }

    static void save(CheckpointStore states, GroupOptions options, long checkpoint, Iterable<Long> parked, long incarnation) {
        GroupState state = GroupState.newBuilder().setSettings(GroupCodec.toProto(options)).addAllParked(parked)
            .setIncarnation(incarnation).build();
        states.save(options.name(), checkpoint, state.toByteArray());
    }

    String name() {
        return options.name();
    }

    GroupStatus status() {
        return status;
    }

    // ------------------------------------------------------------------------------------------ consumers

    /** A consumer joining: the returned Flux delivers while it requests and has in-flight room. */
    Flux<Delivery> join(int maxInFlight, String consumerName) {
        return new Flux<>() {
            @Override
            public void subscribe(CoreSubscriber<? super Delivery> actual) {
                long id = consumerIds.incrementAndGet();
                String consumer = consumerName == null || consumerName.isBlank() ? "consumer-" + id : consumerName;
                ConsumerHandle handle = new ConsumerHandle(actual, id, consumer, maxInFlight);
                actual.onSubscribe(handle);
                joining.add(handle);
                Runnable join = () -> {
                    if (!joining.remove(handle)) {
                        return;
                    }
                    if (closed) {
                        actual.onError(closedError());
                        return;
                    }
                    ledger.join(handle);
                    dispatch();
                };
                try {
                    loop.schedule(join);
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    if (joining.remove(handle)) {
                        actual.onError(closedError());
                    }
                }
            }
        };
    }

    /** One joined consumer: its demand, its in-flight room and its counters. */
    private final class ConsumerHandle implements Subscription {
        final CoreSubscriber<? super Delivery> actual;
        final long id;
        final String name;
        final int maxInFlight;
        final AtomicLong requested = new AtomicLong();
        int inFlightCount;
        long delivered;
        long acked;
        volatile boolean cancelled;

        ConsumerHandle(CoreSubscriber<? super Delivery> actual, long id, String name, int maxInFlight) {
            this.actual = actual;
            this.id = id;
            this.name = name;
            this.maxInFlight = maxInFlight;
        }

        int limit() {
            return maxInFlight <= 0 ? options.maxInFlight() : Math.min(maxInFlight, options.maxInFlight());
        }

        boolean hasRoom() {
            return !cancelled && inFlightCount < limit() && requested.get() > 0;
        }

        @Override
        public void request(long n) {
            if (Operators.validate(n)) {
                requested.getAndUpdate(r -> Operators.addCap(r, n));
                postLate(GroupDispatcher.this::dispatch);   // after the close (which ended this consumer): nothing to do
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            postLate(() -> leave(this));
        }
    }

    private void leave(ConsumerHandle consumer) {
        if (ledger.leave(consumer)) {
            dispatch();
        }
    }

    // --------------------------------------------------------------------------------------- settlement

    /** An ack (action null), or a nack, from any thread. */
    void settle(long position, long consumerId, Nack action, String reason) {
        postLate(() -> {
            ConsumerHandle consumer = ledger.holder(position);
            if (consumer == null || consumer.id != consumerId) {
                return;
            }
            consumer.inFlightCount--;
            GroupLedger.Outcome outcome = ledger.settle(position, action, options.maxRetries());
            if (outcome == GroupLedger.Outcome.DONE) {
                consumer.acked++;
            }
            logParked(position, outcome, action == Nack.PARK && reason == null ? "parked by consumer " + consumer.name : reason);
            dispatch();
        });
    }

    private void logParked(long position, GroupLedger.Outcome outcome, String reason) {
        if (outcome == GroupLedger.Outcome.PARKED) {
            LOG.info("group '{}' parked the event at position {} ({})", options.name(), position, reason);
        } else if (outcome == GroupLedger.Outcome.PARKED_AFTER_RETRIES) {
            LOG.info("group '{}' parked the event at position {} ({})", options.name(), position,
                "retried " + options.maxRetries() + " times" + (reason == null ? "" : ": " + reason));
        }
    }

    // ------------------------------------------------------------------------------------------ dispatch

    private void dispatch() {
        if (closed) {
            return;
        }
        long now = ackClockNanos();
        long timeout = options.ackTimeout().toNanos();
        GroupLedger.Assignment<ConsumerHandle> next;
        while ((next = ledger.next(now + timeout, ConsumerHandle::hasRoom)) != null) {
            ConsumerHandle consumer = next.consumer();
            consumer.inFlightCount++;
            consumer.requested.decrementAndGet();
            consumer.delivered++;
            consumer.actual.onNext(new Delivery(next.event(), next.retries(), this, consumer.id));
        }
        requestUpstream();
    }

    // ------------------------------------------------------------------------------------------ upstream

    private final class Upstream extends BaseSubscriber<SubscriptionMessage> {
        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            // demand is driven by requestUpstream()
        }

        @Override
        protected void hookOnNext(SubscriptionMessage message) {
            if (upstream != this) {
                return;
            }
            requestedUpstream--;
            if (message instanceof SubscriptionMessage.Event e) {
                ledger.received(e.event());
            } else {
                ledger.advanced(message.nextPosition());
            }
            dispatch();
        }

        @Override
        protected void hookOnError(Throwable t) {
            if (upstream == this && !closed) {
                LOG.warn("group '{}' lost its subscription to the log ({}); resubscribing from {}", options.name(), t.getMessage(), ledger.readPosition());
                loop.schedule(GroupDispatcher.this::subscribeUpstream, 1, TimeUnit.SECONDS);
            }
        }
    }

    private void subscribeUpstream() {
        if (closed) {
            return;
        }
        Upstream next = new Upstream();
        upstream = next;
        requestedUpstream = 0;
        store.subscribe(SubscribeOptions.fromPosition(ledger.readPosition()).filter(options.filter()).checkpointInterval(256).checkpointAtHead())
            .publishOn(loop, 256)
            .subscribe(next);
        requestUpstream();
    }

    private void requestUpstream() {
        Upstream u = upstream;
        if (u == null || closed) {
            return;
        }
        long want = BUFFER - ledger.buffered() - requestedUpstream;
        if (want >= BUFFER / 4) {
            requestedUpstream += want;
            u.request(want);
        }
    }

    // ------------------------------------------------------------------------------------ timers, state

    /**
     * Ack deadlines run on the store's timer clock ({@link StoreSettings#timerClock()}), so a test can move time instead
     * of waiting; not on a cluster node's record clock, which reads an entry's stamp while it is applied.
     */
    private long ackClockNanos() {
        java.time.Instant now = store.settings().timerClock().instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private void tick() {
        if (closed) {
            return;
        }
        long now = System.nanoTime();
        List<GroupLedger.Expired<ConsumerHandle>> expired = ledger.expire(ackClockNanos(), options.maxRetries());
        for (GroupLedger.Expired<ConsumerHandle> f : expired) {
            f.consumer().inFlightCount--;
            logParked(f.position(), f.outcome(), "no acknowledgement within " + options.ackTimeout().toMillis() + " ms");
        }
        if (!expired.isEmpty()) {
            dispatch();
        }
        if ((ledger.dirty() || unsaved) && now - lastSaveNanos >= SAVE_INTERVAL_NANOS) {
            saveNow();
        }
        refreshStatus();
    }

    long checkpoint() {
        return ledger.checkpoint();
    }

    private void saveNow() {
        if (replicate != null) {
            saveReplicated();
            return;
        }
        try {
            save(stateStore, options, checkpoint(), ledger.parked(), incarnation);
            ledger.saved();
            lastSaveNanos = System.nanoTime();
        } catch (ReelException e) {
            LOG.warn("group '{}': {}", options.name(), e.getMessage());
        }
    }

    /**
     * Sends the progress through the cluster, one entry at a time: a change made meanwhile is sent by a later tick.
     * A progress lost with a leader is at-least-once redelivery after the failover, never a skip: the checkpoint
     * only names positions that are done.
     */
    private void saveReplicated() {
        if (saving) {
            unsaved = true;
            return;
        }
        saving = true;
        unsaved = false;
        ledger.saved();
        lastSaveNanos = System.nanoTime();
        GroupProgress progress = GroupProgress.newBuilder().setName(options.name()).setCheckpoint(checkpoint()).addAllParked(ledger.parked())
            .setIncarnation(incarnation).build();
        replicate.apply(progress).subscribe(null, e -> postLate(() -> {
            saving = false;
            unsaved = true;
            LOG.debug("group '{}': progress not replicated now ({}); sending it again", options.name(), e.getMessage());
        }), () -> postLate(() -> saving = false));
    }

    private void refreshStatus() {
        long head = store.headPosition();
        long checkpoint = checkpoint();
        double lagSeconds = ledger.lagSeconds(LogFormat.micros(store.settings().timerClock().instant()));
        List<GroupStatus.Consumer> list = new ArrayList<>();
        for (ConsumerHandle c : ledger.consumers()) {
            list.add(new GroupStatus.Consumer(c.name, c.inFlightCount, c.delivered, c.acked));
        }
        status = new GroupStatus(options.name(), options.filter().toString(), checkpoint, Math.max(0, head - checkpoint), lagSeconds,
            ledger.inFlightCount(), ledger.parkedCount(), List.copyOf(list));
    }

    // ------------------------------------------------------------------------------------------- admin

    /** New limits apply at once; a new filter re-reads from the checkpoint (events in flight stay in flight). */
    void update(GroupOptions next) {
        post(() -> {
            boolean refilter = !next.filter().toString().equals(options.filter().toString());
            options = next;
            if (refilter) {
                ledger.refilter();
                Upstream old = upstream;
                upstream = null;
                if (old != null) {
                    old.dispose();
                }
                subscribeUpstream();
            }
            saveNow();
            dispatch();
        });
    }

    /** The parked positions, oldest first. */
    reactor.core.publisher.Mono<List<Long>> parkedPositions() {
        return reactor.core.publisher.Mono.create(sink -> post(() -> sink.success(ledger.parked())));
    }

    /** Puts every parked event back into the group; completes with how many. */
    reactor.core.publisher.Mono<Long> replayParked() {
        return reactor.core.publisher.Mono.<List<Long>>create(sink -> post(() -> {
            sink.success(ledger.startReplay());
        })).flatMap(positions -> Flux.fromIterable(positions)
            .concatMap(p -> store.readAll(p, 1, Direction.FORWARDS, EventFilter.none()).filter(r -> r.position() == p)
                .switchIfEmpty(reactor.core.publisher.Mono.fromRunnable(() -> post(() -> ledger.forgetParked(p)))))
            .doOnNext(event -> post(() -> {
                ledger.replayed(event);
                dispatch();
            }))
            .count());
    }

    private void post(Runnable task) {
        loop.schedule(task);
    }

    private ReelException closedError() {
        ReelException why = closedWith;
        return why != null ? why : new ReelException(ErrorCode.NOT_FOUND, "group '" + options.name() + "' is closed or deleted");
    }

    /** For a late signal (a consumer's request, cancel or ack; a progress entry's answer) that may arrive after the group closed. */
    private void postLate(Runnable task) {
        try {
            loop.schedule(task);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            LOG.trace("group '{}' is closed: a late task is dropped", options.name());
        }
    }

    /** Stops: consumers end with {@code error}, the state is saved (unless deleted). */
    void close(ReelException error, boolean save) {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        loop.schedule(() -> {
            try {
                if (!closed) {
                    closed = true;
                    closedWith = error;
                    Upstream u = upstream;
                    upstream = null;
                    if (u != null) {
                        u.dispose();
                    }
                    for (ConsumerHandle c : List.copyOf(ledger.consumers())) {
                        if (!c.cancelled) {     // a consumer that cancelled is leaving: it gets no more signals
                            c.actual.onError(error);
                        }
                    }
                    ledger.clearConsumers();
                    if (save) {
                        saveNow();
                    }
                }
            } finally {
                done.countDown();
            }
        });
        try {
            done.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ticker.dispose();
        loop.dispose();
        for (ConsumerHandle h : List.copyOf(joining)) {
            if (joining.remove(h)) {   // its join was posted but the loop stopped before it ran
                h.actual.onError(closedError());
            }
        }
    }

    Duration ackTimeout() {
        return options.ackTimeout();
    }
}
