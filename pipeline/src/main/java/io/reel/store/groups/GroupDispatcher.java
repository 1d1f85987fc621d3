package io.reel.store.groups;

import com.google.protobuf.InvalidProtocolBufferException;
import io.reel.proto.GroupState;
import io.reel.store.CheckpointStore;
import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import io.reel.store.internal.log.LogFormat;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
    private final Scheduler loop;
    private final Disposable ticker;

    /* Loop thread only. */
    private GroupOptions options;
    private long readPosition;
    private final TreeMap<Long, Long> outstanding = new TreeMap<>();
    private final Map<String, ArrayDeque<Pending>> queues = new HashMap<>();
    private final ArrayDeque<String> ready = new ArrayDeque<>();
    private final Set<String> busy = new HashSet<>();
    private final Map<Long, InFlight> inFlight = new HashMap<>();
    private final Map<String, Long> affinity = new HashMap<>();
    private final List<ConsumerHandle> consumers = new ArrayList<>();
    private final TreeSet<Long> parked = new TreeSet<>();
    private final Set<Long> replaying = new HashSet<>();
    private int buffered;
    private long requestedUpstream;
    private Upstream upstream;
    private boolean dirty;
    private long lastSaveNanos;
    private int roundRobin;
    private boolean closed;
    private volatile GroupStatus status;
    private final AtomicLong consumerIds = new AtomicLong();

    private static final class Pending {
        final RecordedEvent event;
        int retries;
        final boolean replayed;

        Pending(RecordedEvent event, boolean replayed) {
            this.event = event;
            this.replayed = replayed;
        }
    }

    private record InFlight(Pending pending, ConsumerHandle consumer, long deadlineNanos) {
    }

    GroupDispatcher(EventStore store, CheckpointStore stateStore, GroupOptions options, long checkpoint, List<Long> parkedPositions) {
        this.store = store;
        this.stateStore = stateStore;
        this.options = options;
        this.readPosition = checkpoint;
        this.parked.addAll(parkedPositions);
        this.loop = Schedulers.newSingle("reel-group-" + options.name(), true);
        this.status = new GroupStatus(options.name(), options.filter().toString(), checkpoint, 0, 0, 0, parked.size(), List.of());
        loop.schedule(this::subscribeUpstream);
        long tick = Math.max(50, Math.min(1000, options.ackTimeout().toMillis() / 4));
        this.ticker = loop.schedulePeriodically(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    }

    /** Reads a stored group: its options, checkpoint and parked positions. */
    static Optional<Stored> load(CheckpointStore states, String name) {
        return states.load(name).flatMap(c -> {
            try {
                GroupState state = GroupState.parseFrom(c.state());
                return Optional.of(new Stored(GroupCodec.fromProto(state.getSettings()), c.position(), state.getParkedList()));
            } catch (InvalidProtocolBufferException | ReelException e) {
                LOG.warn("ignoring the stored group '{}': {}", name, e.getMessage());
                return Optional.empty();
            }
        });
    }

    record Stored(GroupOptions options, long checkpoint, List<Long> parked) {
    }

    static void save(CheckpointStore states, GroupOptions options, long checkpoint, Iterable<Long> parked) {
        GroupState state = GroupState.newBuilder().setSettings(GroupCodec.toProto(options)).addAllParked(parked).build();
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
                post(() -> {
                    if (closed) {
                        actual.onError(new ReelException(ErrorCode.NOT_FOUND, "group '" + options.name() + "' is closed or deleted"));
                        return;
                    }
                    consumers.add(handle);
                    dispatch();
                });
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
                post(GroupDispatcher.this::dispatch);
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            post(() -> leave(this));
        }
    }

    private void leave(ConsumerHandle consumer) {
        if (!consumers.remove(consumer)) {
            return;
        }
        List<InFlight> held = new ArrayList<>();
        for (InFlight f : inFlight.values()) {
            if (f.consumer == consumer) {
                held.add(f);
            }
        }
        for (InFlight f : held) {
            inFlight.remove(f.pending.event.position());
            requeueFront(f.pending);
        }
        dispatch();
    }

    // --------------------------------------------------------------------------------------- settlement

    /** An ack (action null), or a nack, from any thread. */
    void settle(long position, long consumerId, Nack action, String reason) {
        post(() -> {
            InFlight f = inFlight.get(position);
            if (f == null || f.consumer.id != consumerId) {
                return;
            }
            inFlight.remove(position);
            f.consumer.inFlightCount--;
            if (action == null || action == Nack.SKIP) {
                f.consumer.acked++;
                done(f.pending);
                release(f.pending.event.stream());
            } else if (action == Nack.PARK) {
                park(f.pending, reason == null ? "parked by consumer " + f.consumer.name : reason);
                release(f.pending.event.stream());
            } else {
                retry(f.pending, reason);
            }
            dispatch();
        });
    }

    private void done(Pending p) {
        long position = p.event.position();
        if (p.replayed) {
            parked.remove(position);
            replaying.remove(position);
        } else {
            outstanding.remove(position);
        }
        dirty = true;
    }

    private void retry(Pending p, String reason) {
        p.retries++;
        if (p.retries > options.maxRetries()) {
            park(p, "retried " + options.maxRetries() + " times" + (reason == null ? "" : ": " + reason));
            release(p.event.stream());
        } else {
            requeueFront(p);
        }
    }

    private void park(Pending p, String reason) {
        long position = p.event.position();
        parked.add(position);
        replaying.remove(position);
        if (!p.replayed) {
            outstanding.remove(position);
        }
        dirty = true;
        LOG.info("group '{}' parked the event at position {} ({})", options.name(), position, reason);
    }

    /** Puts an event back at the front of its stream's queue (it was in flight, so its stream was busy). */
    private void requeueFront(Pending p) {
        String stream = p.event.stream();
        queues.computeIfAbsent(stream, s -> new ArrayDeque<>()).addFirst(p);
        buffered++;
        busy.remove(stream);
        ready.addFirst(stream);
    }

    /** The stream's in-flight event is done: the next one of the stream, if any, may go. */
    private void release(String stream) {
        busy.remove(stream);
        ArrayDeque<Pending> q = queues.get(stream);
        if (q != null && !q.isEmpty()) {
            ready.add(stream);
        } else {
            queues.remove(stream);
            affinity.remove(stream);
        }
    }

    // ------------------------------------------------------------------------------------------ dispatch

    private void dispatch() {
        if (closed) {
            return;
        }
        long now = ackClockNanos();
        long timeout = options.ackTimeout().toNanos();
        while (!ready.isEmpty()) {
            String stream = ready.peek();
            ConsumerHandle consumer = choose(stream);
            if (consumer == null) {
                break;
            }
            ready.poll();
            ArrayDeque<Pending> q = queues.get(stream);
            if (q == null || q.isEmpty() || busy.contains(stream)) {
                continue;
            }
            Pending p = q.poll();
            buffered--;
            busy.add(stream);
            affinity.put(stream, consumer.id);
            inFlight.put(p.event.position(), new InFlight(p, consumer, now + timeout));
            consumer.inFlightCount++;
            consumer.requested.decrementAndGet();
            consumer.delivered++;
            consumer.actual.onNext(new Delivery(p.event, p.retries, this, consumer.id));
        }
        requestUpstream();
    }

    private ConsumerHandle choose(String stream) {
        Long preferred = affinity.get(stream);
        if (preferred != null) {
            for (ConsumerHandle c : consumers) {
                if (c.id == preferred && c.hasRoom()) {
                    return c;
                }
            }
        }
        int n = consumers.size();
        for (int i = 0; i < n; i++) {
            ConsumerHandle c = consumers.get((roundRobin + i) % n);
            if (c.hasRoom()) {
                roundRobin = (roundRobin + i + 1) % n;
                return c;
            }
        }
        return null;
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
                RecordedEvent event = e.event();
                readPosition = event.position() + 1;
                outstanding.put(event.position(), event.timestampMicros());
                enqueue(new Pending(event, false));
            } else {
                readPosition = Math.max(readPosition, message.nextPosition());
            }
            dirty = true;
            dispatch();
        }

        @Override
        protected void hookOnError(Throwable t) {
            if (upstream == this && !closed) {
                LOG.warn("group '{}' lost its subscription to the log ({}); resubscribing from {}", options.name(), t.getMessage(), readPosition);
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
        store.subscribe(SubscribeOptions.fromPosition(readPosition).filter(options.filter()).checkpointInterval(256))
            .publishOn(loop, 256)
            .subscribe(next);
        requestUpstream();
    }

    private void requestUpstream() {
        Upstream u = upstream;
        if (u == null || closed) {
            return;
        }
        long want = BUFFER - buffered - requestedUpstream;
        if (want >= BUFFER / 4) {
            requestedUpstream += want;
            u.request(want);
        }
    }

    private void enqueue(Pending p) {
        String stream = p.event.stream();
        ArrayDeque<Pending> q = queues.computeIfAbsent(stream, s -> new ArrayDeque<>());
        boolean wasEmpty = q.isEmpty();
        q.add(p);
        buffered++;
        if (wasEmpty && !busy.contains(stream)) {
            ready.add(stream);
        }
    }

    // ------------------------------------------------------------------------------------ timers, state

    /** Ack deadlines run on the store's clock ({@link StoreSettings#clock()}), so a test can move time instead of waiting. */
    private long ackClockNanos() {
        java.time.Instant now = store.settings().clock().instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private void tick() {
        if (closed) {
            return;
        }
        long now = System.nanoTime();
        long ackNow = ackClockNanos();
        List<InFlight> expired = new ArrayList<>();
        for (InFlight f : inFlight.values()) {
            if (f.deadlineNanos - ackNow < 0) {
                expired.add(f);
            }
        }
        for (InFlight f : expired) {
            inFlight.remove(f.pending.event.position());
            f.consumer.inFlightCount--;
            retry(f.pending, "no acknowledgement within " + options.ackTimeout().toMillis() + " ms");
        }
        if (!expired.isEmpty()) {
            dispatch();
        }
        if (dirty && now - lastSaveNanos >= SAVE_INTERVAL_NANOS) {
            saveNow();
        }
        refreshStatus();
    }

    long checkpoint() {
        return outstanding.isEmpty() ? readPosition : Math.min(outstanding.firstKey(), readPosition);
    }

    private void saveNow() {
        try {
            save(stateStore, options, checkpoint(), parked);
            dirty = false;
            lastSaveNanos = System.nanoTime();
        } catch (ReelException e) {
            LOG.warn("group '{}': {}", options.name(), e.getMessage());
        }
    }

    private void refreshStatus() {
        long head = store.headPosition();
        long checkpoint = checkpoint();
        double lagSeconds = outstanding.isEmpty() ? 0
            : Math.max(0, (LogFormat.micros(store.settings().clock().instant()) - outstanding.firstEntry().getValue()) / 1e6);
        List<GroupStatus.Consumer> list = new ArrayList<>();
        for (ConsumerHandle c : consumers) {
            list.add(new GroupStatus.Consumer(c.name, c.inFlightCount, c.delivered, c.acked));
        }
        status = new GroupStatus(options.name(), options.filter().toString(), checkpoint, Math.max(0, head - checkpoint), lagSeconds,
            inFlight.size(), parked.size(), List.copyOf(list));
    }

    // ------------------------------------------------------------------------------------------- admin

    /** New limits apply at once; a new filter re-reads from the checkpoint (events in flight stay in flight). */
    void update(GroupOptions next) {
        post(() -> {
            boolean refilter = !next.filter().toString().equals(options.filter().toString());
            options = next;
            if (refilter) {
                for (ArrayDeque<Pending> q : queues.values()) {
                    for (Pending p : q) {
                        if (!p.replayed) {
                            outstanding.remove(p.event.position());
                        }
                    }
                }
                queues.clear();
                ready.clear();
                buffered = 0;
                replaying.clear();
                readPosition = checkpoint();
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
        return reactor.core.publisher.Mono.create(sink -> post(() -> sink.success(List.copyOf(parked))));
    }

    /** Puts every parked event back into the group; completes with how many. */
    reactor.core.publisher.Mono<Long> replayParked() {
        return reactor.core.publisher.Mono.<List<Long>>create(sink -> post(() -> {
            List<Long> toReplay = new ArrayList<>();
            for (Long p : parked) {
                if (replaying.add(p)) {
                    toReplay.add(p);
                }
            }
            sink.success(toReplay);
        })).flatMap(positions -> Flux.fromIterable(positions)
            .concatMap(p -> store.readAll(p, 1, Direction.FORWARDS, EventFilter.none()).filter(r -> r.position() == p)
                .switchIfEmpty(reactor.core.publisher.Mono.fromRunnable(() -> post(() -> {
                    parked.remove(p);
                    replaying.remove(p);
                    dirty = true;
                }))))
            .doOnNext(event -> post(() -> {
                enqueue(new Pending(event, true));
                dispatch();
            }))
            .count());
    }

    private void post(Runnable task) {
        loop.schedule(task);
    }

    /** Stops: consumers end with {@code error}, the state is saved (unless deleted). */
    void close(ReelException error, boolean save) {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        loop.schedule(() -> {
            try {
                if (!closed) {
                    closed = true;
                    Upstream u = upstream;
                    upstream = null;
                    if (u != null) {
                        u.dispose();
                    }
                    for (ConsumerHandle c : List.copyOf(consumers)) {
                        if (!c.cancelled) {     // a consumer that cancelled is leaving: it gets no more signals
                            c.actual.onError(error);
                        }
                    }
                    consumers.clear();
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
    }

    Duration ackTimeout() {
        return options.ackTimeout();
    }
}
