package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.awaitility.core.ConditionTimeoutException;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

/**
 * Subscriptions under concurrency: writers append while subscribers with random speeds (random request sizes
 * and pauses), random start points (start, end, a position, a named checkpoint) and random filters catch up
 * and go live. Each must see exactly the positions (of {@code $all}, or those its filter matches) from its
 * start to the head, in order, without a gap or a duplicate, with one caught-up message and consistent
 * checkpoints, and never more messages than it requested. A named subscriber cancelled and resumed from its
 * checkpoint, with restarts of the store in between, misses nothing and repeats nothing.
 *
 * <p>Each try is driven by one {@code long} seed that jqwik logs; the seed fixes every random choice, the
 * thread interleaving is what varies.
 */
class SubscriptionPropertyTest {
    private static final List<StoreModel.Filter> FILTERS = List.of(
        StoreModel.Filter.NONE,
        new StoreModel.Filter(List.of("s-1"), List.of(), null, null),
        new StoreModel.Filter(List.of(), List.of("B"), null, null),
        new StoreModel.Filter(List.of(), List.of(), "^s-[23]$", "A|C"));

    /** What was written at each position (stream and type), for the expected lists. */
    private final Map<Long, StoreModel.Rec> written = new ConcurrentHashMap<>();

    private void appendRandom(EventStore store, Random r) {
        int n = 1 + r.nextInt(4);
        String stream = "s-" + r.nextInt(5);
        List<EventData> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add(TestStores.event(String.valueOf((char) ('A' + r.nextInt(3))), r.nextInt(600)));
        }
        AppendResult result = TestStores.await(store.append(stream, ExpectedRevision.ANY, events));
        for (int i = 0; i < n; i++) {
            long p = result.firstPosition() + i;
            written.put(p, new StoreModel.Rec(p, stream, 0, events.get(i).type(), events.get(i).eventId(), null, 0));
        }
    }

    private List<Long> expected(long from, long head, StoreModel.Filter filter) {
        List<Long> positions = new ArrayList<>();
        for (long p = from; p < head; p++) {
            StoreModel.Rec rec = written.get(p);
            assertThat(rec).as("position %d was acknowledged", p).isNotNull();
            if (filter.matches(rec)) {
                positions.add(p);
            }
        }
        return positions;
    }

    /** A subscriber at a random speed: random request sizes, random pauses between them. */
    private static final class Consumer extends BaseSubscriber<SubscriptionMessage> {
        final List<SubscriptionMessage> received = Collections.synchronizedList(new ArrayList<>());
        final AtomicLong requested = new AtomicLong();
        final AtomicLong outstanding = new AtomicLong();
        volatile String violation;
        volatile Throwable error;
        volatile boolean caughtUp;
        volatile long lastEvent = -1;
        private final Random random;
        private final ScheduledExecutorService timer;
        private final int maxRequest;
        private final int maxPauseMicros;
        private final EventStore checkpointStore;
        private final String checkpointName;
        private final int stopAfter;

        Consumer(long seed, ScheduledExecutorService timer, int maxRequest, int maxPauseMicros, EventStore checkpointStore,
                 String checkpointName, int stopAfter) {
            this.random = new Random(seed);
            this.timer = timer;
            this.maxRequest = maxRequest;
            this.maxPauseMicros = maxPauseMicros;
            this.checkpointStore = checkpointStore;
            this.checkpointName = checkpointName;
            this.stopAfter = stopAfter;
        }

        @Override
        protected void hookOnSubscribe(Subscription s) {
            requestMore();
        }

        private void requestMore() {
            long n;
            synchronized (random) {
                n = 1 + random.nextInt(maxRequest);
            }
            requested.addAndGet(n);
            outstanding.addAndGet(n);
            request(n);
        }

        @Override
        protected void hookOnNext(SubscriptionMessage m) {
            if (stopAfter > 0 && received.size() >= stopAfter) {
                violation = "a message after cancel: " + m;
                return;
            }
            received.add(m);
            if (received.size() > requested.get()) {
                violation = "received " + received.size() + " messages, requested " + requested.get();
            }
            if (m instanceof SubscriptionMessage.Event e) {
                lastEvent = e.event().position();
            } else if (m instanceof SubscriptionMessage.CaughtUp) {
                caughtUp = true;
            }
            if (checkpointName != null) {
                checkpointStore.checkpoint(checkpointName, m.nextPosition()).subscribe();
            }
            if (stopAfter > 0 && received.size() == stopAfter) {
                cancel();
                return;
            }
            if (outstanding.decrementAndGet() == 0) {
                int pause;
                synchronized (random) {
                    pause = random.nextInt(10) == 0 ? 5_000 : random.nextInt(maxPauseMicros + 1);
                }
                if (pause == 0) {
                    requestMore();
                } else {
                    timer.schedule(this::requestMore, pause, TimeUnit.MICROSECONDS);
                }
            }
        }

        @Override
        protected void hookOnError(Throwable t) {
            error = t;
        }

        List<Long> eventPositions() {
            synchronized (received) {
                return received.stream().filter(m -> m instanceof SubscriptionMessage.Event)
                    .map(m -> ((SubscriptionMessage.Event) m).event().position()).toList();
            }
        }

        /** One caught-up message, and every signal consistent with the events around it. */
        void checkSignals(String who) {
            assertThat(violation).as("%s: demand", who).isNull();
            assertThat(error).as("%s: error", who).isNull();
            List<SubscriptionMessage> all;
            synchronized (received) {
                all = List.copyOf(received);
            }
            int caughtUps = 0;
            long lastEventPosition = -1;
            long lastSignal = -1;
            for (SubscriptionMessage m : all) {
                if (m instanceof SubscriptionMessage.Event e) {
                    assertThat(e.event().position()).as("%s: an event after signal %d", who, lastSignal).isGreaterThanOrEqualTo(lastSignal);
                    lastEventPosition = e.event().position();
                } else {
                    assertThat(m.nextPosition()).as("%s: %s after event %d", who, m, lastEventPosition).isGreaterThan(lastEventPosition)
                        .isGreaterThanOrEqualTo(lastSignal);
                    lastSignal = m.nextPosition();
                    if (m instanceof SubscriptionMessage.CaughtUp) {
                        caughtUps++;
                    }
                }
            }
            if (stopAfter == 0) {
                assertThat(caughtUps).as("%s: caught-up messages", who).isEqualTo(1);
            } else {
                assertThat(caughtUps).as("%s: caught-up messages", who).isLessThanOrEqualTo(1);
            }
        }
    }

    private static ScheduledExecutorService timer() {
        return Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "consumer-timer");
            t.setDaemon(true);
            return t;
        });
    }

    private static StoreSettings settings(Random r) {
        long[] caches = {0, 64 * 1024, 64L * 1024 * 1024};
        return TestStores.small().recentCacheBytes(caches[r.nextInt(caches.length)]).build();
    }

    enum Start { START, END, POSITION, NAMED }

    private record Subscriber(String name, Start start, StoreModel.Filter filter, long from, long headBefore, long headAfter, Consumer consumer) {
    }

    @Property(tries = 10)
    void concurrentWritersAndSubscribersSeeExactlyTheirPositionsInOrder(@ForAll long seed) {
        TestStores.withDeadline(Duration.ofSeconds(90), () -> concurrentRun(seed));
    }

    private void concurrentRun(long seed) {
        Random r = new Random(seed);
        Path dir = TempDirs.create("reel-subs");
        ScheduledExecutorService timer = timer();
        List<Thread> writers = new ArrayList<>();
        List<Throwable> writerFailures = new CopyOnWriteArrayList<>();
        try (EventStore store = EventStore.open(dir, settings(r))) {
            int prefill = r.nextInt(1500);
            for (int i = 0; i < prefill; ) {
                appendRandom(store, r);
                i = (int) store.headPosition();
            }
            int writerCount = 1 + r.nextInt(3);
            int perWriter = 100 + r.nextInt(400);
            for (int w = 0; w < writerCount; w++) {
                long writerSeed = r.nextLong();
                Thread t = new Thread(() -> {
                    Random wr = new Random(writerSeed);
                    try {
                        for (int i = 0; i < perWriter; i++) {
                            appendRandom(store, wr);
                            if (wr.nextInt(20) == 0) {
                                Thread.sleep(1);
                            }
                        }
                    } catch (Throwable e) {
                        writerFailures.add(e);
                    }
                }, "writer-" + w);
                t.setDaemon(true);
                writers.add(t);
            }
            writers.forEach(Thread::start);
            List<Subscriber> subscribers = new ArrayList<>();
            int count = 2 + r.nextInt(4);
            for (int i = 0; i < count; i++) {
                sleepMillis(r.nextInt(30));
                Start start = Start.values()[r.nextInt(Start.values().length)];
                StoreModel.Filter filter = FILTERS.get(r.nextInt(FILTERS.size()));
                String name = "sub-" + i;
                Consumer consumer = new Consumer(r.nextLong(), timer, 1 + r.nextInt(64), r.nextInt(3000), store, null, 0);
                long head = store.headPosition();
                long from = r.nextInt((int) head + 1);
                SubscribeOptions options = switch (start) {
                    case START -> SubscribeOptions.fromStart();
                    case END -> SubscribeOptions.fromEnd();
                    case POSITION -> SubscribeOptions.fromPosition(from);
                    case NAMED -> {
                        TestStores.await(store.checkpoint(name, from));
                        yield (r.nextBoolean() ? SubscribeOptions.fromEnd() : SubscribeOptions.fromStart()).name(name);
                    }
                };
                // every subscriber is named, for its status; only NAMED ones have a stored checkpoint to resume from
                options = options.name(name).filter(filter.toEventFilter()).checkpointInterval(1 + r.nextInt(200));
                long headBefore = store.headPosition();
                store.subscribe(options).subscribe(consumer);
                long headAfter = store.headPosition();
                subscribers.add(new Subscriber(name, start, filter, start == Start.START ? 0 : from, headBefore, headAfter, consumer));
            }
            for (Thread t : writers) {
                join(t);
            }
            assertThat(writerFailures).as("writer failures").isEmpty();
            long head = store.headPosition();
            for (Subscriber s : subscribers) {
                String who = s.name + " (" + s.start + " from " + s.from + ", " + s.filter + ", seed " + seed + ")";
                long from = s.start == Start.END ? s.headBefore : s.from;
                List<Long> all = expected(from, head, s.filter);
                long last = all.isEmpty() ? -1 : all.get(all.size() - 1);
                awaitOrStall(() -> done(store, s, last, head) || s.consumer.error != null, () -> String.format(
                    "%s stalled: last event %d of %d expected, caught up %s, %d messages, status %s", who, s.consumer.lastEvent, last,
                    s.consumer.caughtUp, s.consumer.received.size(), store.subscriptions()));
                s.consumer.dispose();
                s.consumer.checkSignals(who);
                List<Long> actual = s.consumer.eventPositions();
                if (s.start == Start.END) {
                    boolean matched = false;
                    for (long start = s.headBefore; start <= s.headAfter && !matched; start++) {
                        matched = actual.equals(expected(start, head, s.filter));
                    }
                    assertThat(matched).as("%s: events from a start between %d and %d: %s", who, s.headBefore, s.headAfter, actual).isTrue();
                } else {
                    assertThat(actual).as("%s: every position from its start to the head, in order", who)
                        .containsExactlyElementsOf(expected(s.from, head, s.filter));
                }
            }
        } finally {
            timer.shutdownNow();
            TempDirs.delete(dir);
        }
    }

    /**
     * Caught up, and the last expected event delivered; a subscriber from the end whose start may lie past
     * the last matching event is done when it has scanned to the head.
     */
    private static boolean done(EventStore store, Subscriber s, long lastExpected, long head) {
        if (!s.consumer.caughtUp) {
            return false;
        }
        if (s.consumer.lastEvent == lastExpected) {
            return true;
        }
        return s.start == Start.END && lastExpected < s.headAfter
            && store.subscriptions().stream().anyMatch(st -> st.name().equals(s.name) && st.position() == head);
    }

    @Property(tries = 10)
    void aNamedSubscriberCancelledAndResumedAcrossRestartsMissesAndRepeatsNothing(@ForAll long seed) {
        TestStores.withDeadline(Duration.ofSeconds(90), () -> resumeRun(seed));
    }

    private void resumeRun(long seed) {
        Random r = new Random(seed);
        Path dir = TempDirs.create("reel-resume");
        ScheduledExecutorService timer = timer();
        StoreSettings settings = settings(r);
        StoreModel.Filter filter = FILTERS.get(r.nextInt(FILTERS.size()));
        String name = "resumer";
        List<Long> delivered = new ArrayList<>();
        List<String> log = new ArrayList<>();
        EventStore store = EventStore.open(dir, settings);
        try {
            for (int i = r.nextInt(800); i > 0; i--) {
                appendRandom(store, r);
            }
            int sessions = 3 + r.nextInt(5);
            for (int session = 0; session <= sessions; session++) {
                boolean last = session == sessions;
                AtomicBoolean stop = new AtomicBoolean();
                EventStore writing = store;
                long writerSeed = r.nextLong();
                Thread writer = new Thread(() -> {
                    Random wr = new Random(writerSeed);
                    for (int i = 0; i < 300 && !stop.get(); i++) {
                        appendRandom(writing, wr);
                    }
                }, "writer");
                writer.setDaemon(true);
                writer.start();
                long resumeAt = store.checkpoints().getOrDefault(name, 0L);
                int stopAfter = last ? 0 : 1 + r.nextInt(400);
                Consumer consumer = new Consumer(r.nextLong(), timer, 1 + r.nextInt(50), r.nextInt(2000), store, name, stopAfter);
                store.subscribe(SubscribeOptions.fromStart().name(name).filter(filter.toEventFilter()).checkpointInterval(1 + r.nextInt(100)))
                    .subscribe(consumer);
                if (last) {
                    join(writer);
                }
                int sessionNumber = session;
                awaitOrStall(() -> {
                    if (consumer.error != null) {
                        return true;
                    }
                    if (last) {
                        List<Long> all = expected(0, writing.headPosition(), filter);
                        return consumer.caughtUp && consumer.lastEvent == (all.isEmpty() ? -1 : all.get(all.size() - 1));
                    }
                    return consumer.received.size() >= stopAfter || !writer.isAlive() && consumer.caughtUp && writing.subscriptions().stream()
                        .anyMatch(st -> st.name().equals(name) && st.position() == writing.headPosition());
                }, () -> String.format("session %d stalled (seed %d): %d messages, status %s", sessionNumber, seed,
                    consumer.received.size(), writing.subscriptions()));
                stop.set(true);
                join(writer);
                consumer.checkSignals("session " + session + " (seed " + seed + ")");
                List<Long> positions = consumer.eventPositions();
                if (!positions.isEmpty()) {
                    assertThat(positions.get(0)).as("session %d resumed at its checkpoint %d (seed %d)", session, resumeAt, seed)
                        .isGreaterThanOrEqualTo(resumeAt);
                }
                delivered.addAll(positions);
                log.add("session " + session + " from " + resumeAt + ": " + positions.size() + " events");
                consumer.dispose();
                if (!last && r.nextBoolean()) {
                    store.close();
                    store = EventStore.open(dir, settings);
                    log.add("restart");
                }
            }
            assertThat(delivered).as("every matching position exactly once across sessions %s (seed %d)", log, seed)
                .containsExactlyElementsOf(expected(0, store.headPosition(), filter));
        } finally {
            store.close();
            timer.shutdownNow();
            TempDirs.delete(dir);
        }
    }

    /** Waits (30 s at most, polling every millisecond) until {@code done}; fails with {@code stalled} otherwise. */
    private static void awaitOrStall(Callable<Boolean> done, Supplier<String> stalled) {
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(1)).until(done);
        } catch (ConditionTimeoutException e) {
            fail(stalled.get());
        }
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void join(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        assertThat(t.isAlive()).as("%s finished", t.getName()).isFalse();
    }
}
