package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.internal.subscription.LogCursor;
import io.reel.store.internal.subscription.LogSubscription;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.test.StepVerifier;

/**
 * Demand: a subscription delivers no more than was requested (events, caught-up and checkpoint messages
 * alike, across the switch from catch-up to live), reads only as far as one chunk ahead of an idle subscriber,
 * and an idle subscriber slows neither the writer nor another subscriber. At the head no wake-up is lost.
 */
@Timeout(60)
class SubscriptionDemandTest {
    private static final Duration QUIET = Duration.ofMillis(150);
    private static final Duration VERIFY = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private static long positionOf(SubscriptionMessage m) {
        return ((SubscriptionMessage.Event) m).event().position();
    }

    @Test
    void neverMoreThanRequestedAcrossTheSwitchFromCatchUpToLive() {
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            TestStores.appendMany(store, "s", "T", 5, 10);
            StepVerifier.create(store.subscribe(SubscribeOptions.fromStart()), 0)
                .expectSubscription()
                .expectNoEvent(QUIET)
                .thenRequest(3)
                .expectNextMatches(m -> positionOf(m) == 0)
                .expectNextMatches(m -> positionOf(m) == 1)
                .expectNextMatches(m -> positionOf(m) == 2)
                .expectNoEvent(QUIET)
                .thenRequest(2)
                .expectNextMatches(m -> positionOf(m) == 3)
                .expectNextMatches(m -> positionOf(m) == 4)
                .as("the caught-up message waits for demand too")
                .expectNoEvent(QUIET)
                .thenRequest(1)
                .expectNext(new SubscriptionMessage.CaughtUp(5))
                .then(() -> TestStores.appendMany(store, "s", "T", 3, 10))
                .as("live events wait for demand")
                .expectNoEvent(QUIET)
                .thenRequest(2)
                .expectNextMatches(m -> positionOf(m) == 5)
                .expectNextMatches(m -> positionOf(m) == 6)
                .expectNoEvent(QUIET)
                .thenRequest(5)
                .expectNextMatches(m -> positionOf(m) == 7)
                .as("demand left over at the head is used by the next live event")
                .then(() -> TestStores.appendMany(store, "s", "T", 1, 10))
                .expectNextMatches(m -> positionOf(m) == 8)
                .thenCancel()
                .verify(VERIFY);
        }
    }

    @Test
    void aLiveSubscriptionWithDemandAtTheHeadGetsEachNewEventAndNothingElse() {
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            StepVerifier.create(store.subscribe(SubscribeOptions.fromEnd()), 1)
                .expectNext(new SubscriptionMessage.CaughtUp(0))
                .expectNoEvent(QUIET)
                .thenRequest(10)
                .then(() -> TestStores.appendMany(store, "s", "T", 4, 10))
                .expectNextCount(4)
                .expectNoEvent(QUIET)
                .thenCancel()
                .verify(VERIFY);
        }
    }

    @Test
    void checkpointMessagesCountAgainstDemand() {
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            TestStores.appendMany(store, "s", "Common", 50, 10);
            EventFilter rare = EventFilter.builder().eventType("Rare").build();
            StepVerifier.create(store.subscribe(SubscribeOptions.fromStart().filter(rare).checkpointInterval(10)), 2)
                .expectNext(new SubscriptionMessage.Checkpoint(10), new SubscriptionMessage.Checkpoint(20))
                .expectNoEvent(QUIET)
                .thenRequest(4)
                .expectNext(new SubscriptionMessage.Checkpoint(30), new SubscriptionMessage.Checkpoint(40),
                    new SubscriptionMessage.Checkpoint(50), new SubscriptionMessage.CaughtUp(50))
                .expectNoEvent(QUIET)
                .thenCancel()
                .verify(VERIFY);
        }
    }

    /** Requests {@code n} at subscription, then only what the test asks for; records everything it receives. */
    private static class ManualSubscriber extends BaseSubscriber<SubscriptionMessage> {
        final List<SubscriptionMessage> received = new CopyOnWriteArrayList<>();
        final AtomicLong requested = new AtomicLong();
        volatile Throwable error;
        private final long initial;

        ManualSubscriber(long initial) {
            this.initial = initial;
        }

        @Override
        protected void hookOnSubscribe(Subscription s) {
            more(initial);
        }

        void more(long n) {
            if (n > 0) {
                requested.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
                request(n);
            }
        }

        @Override
        protected void hookOnNext(SubscriptionMessage m) {
            received.add(m);
            assertThat((long) received.size()).as("messages received vs requested").isLessThanOrEqualTo(requested.get());
        }

        @Override
        protected void hookOnError(Throwable t) {
            error = t;
        }

        long events() {
            return received.stream().filter(m -> m instanceof SubscriptionMessage.Event).count();
        }

        long lastEventPosition() {
            for (int i = received.size() - 1; i >= 0; i--) {
                if (received.get(i) instanceof SubscriptionMessage.Event e) {
                    return e.event().position();
                }
            }
            return -1;
        }
    }

    @Test
    void anIdleSubscriberHoldsAtMostOneChunkAndSlowsNeitherTheWriterNorAnotherSubscriber() {
        StoreSettings settings = TestStores.small().recentCacheBytes(256 * 1024).build();
        try (EventStore store = EventStore.open(dir, settings)) {
            ManualSubscriber fast = new ManualSubscriber(Long.MAX_VALUE);
            store.subscribe(SubscribeOptions.fromStart().name("fast")).subscribe(fast);
            int total = 20_000;
            ManualSubscriber idle = new ManualSubscriber(1);
            for (int i = 0; i < total / 100; i++) {
                List<EventData> batch = new ArrayList<>();
                for (int j = 0; j < 100; j++) {
                    batch.add(TestStores.event("T", 200));
                }
                TestStores.await(store.append("s-" + i % 7, ExpectedRevision.ANY, batch));
                if (i == total / 200) {
                    // half written: a subscriber that wants one event and then nothing for a long time
                    store.subscribe(SubscribeOptions.fromStart().name("idle")).subscribe(idle);
                    await().atMost(Duration.ofSeconds(10)).until(() -> idle.received.size() == 1);
                }
            }
            assertThat(store.info().segments()).as("the log rolled many segments").isGreaterThan(20);
            await().atMost(Duration.ofSeconds(30)).until(() -> fast.lastEventPosition() == total - 1);
            assertThat(fast.events()).isEqualTo(total);
            assertThat(fast.error).isNull();

            LogSubscription held = live(store, "idle");
            assertThat(idle.received).hasSize(1);
            assertThat(settled(held::readAheadRecords)).as("records read ahead of an idle subscriber").isBetween(0L, (long) LogSubscription.CHUNK);
            long stoppedAt = settled(held::readPosition);
            assertThat(stoppedAt).as("the idle cursor read its one event and stopped within one chunk").isBetween(1L, 1L + LogSubscription.CHUNK);
            assertThat(settled(held::readAheadBytes)).as("bytes read ahead").isBetween(0L, (long) LogSubscription.CHUNK * 400);
            TestStores.appendMany(store, "s-0", "T", 50, 200);
            assertThat(settled(held::readPosition)).as("more appends do not move an idle cursor").isEqualTo(stoppedAt);

            idle.more(Long.MAX_VALUE);
            await("the idle subscriber, given demand, to receive every event").atMost(Duration.ofSeconds(10))
                .until(() -> idle.lastEventPosition() == total + 49);
            List<Long> positions = idle.received.stream().filter(m -> m instanceof SubscriptionMessage.Event)
                .map(m -> ((SubscriptionMessage.Event) m).event().position()).toList();
            for (int i = 0; i < positions.size(); i++) {
                assertThat(positions.get(i)).as("position %d, in order, no gap", i).isEqualTo(i);
            }
            idle.dispose();
            fast.dispose();
        }
    }

    @Test
    void anIdleSubscriberOfLargeEventsHoldsABoundedNumberOfBytes() {
        int eventBytes = 32 * 1024;
        StoreSettings settings = StoreSettings.builder().segmentSize(8L * 1024 * 1024).maxEventSize(64 * 1024).recentCacheBytes(0).build();
        try (EventStore store = EventStore.open(dir, settings)) {
            for (int i = 0; i < 600; i++) {
                TestStores.await(store.append("big", ExpectedRevision.ANY, TestStores.event("Big", eventBytes)));
            }
            ManualSubscriber idle = new ManualSubscriber(1);
            store.subscribe(SubscribeOptions.fromStart().name("idle-big")).subscribe(idle);
            await().atMost(Duration.ofSeconds(10)).until(() -> idle.received.size() == 1);
            LogSubscription held = live(store, "idle-big");
            assertThat(settled(held::readAheadBytes)).as("bytes an idle subscriber of 32 KiB events holds")
                .isBetween(0L, LogCursor.FILE_CHUNK + 2L * eventBytes);
            idle.dispose();
        }
    }

    /**
     * Lost wake-ups at the head: one tiny append at a time, each must reach a subscriber parked at the head
     * before the next is sent; a lost wake-up is a stall, caught by the bounded wait.
     */
    @Test
    void everyTinyAppendReachesASubscriberParkedAtTheHead() {
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            ManualSubscriber live = new ManualSubscriber(Long.MAX_VALUE);
            store.subscribe(SubscribeOptions.fromEnd()).subscribe(live);
            for (int i = 0; i < 1500; i++) {
                long position = TestStores.await(store.append("tiny", ExpectedRevision.ANY, TestStores.event("T"))).firstPosition();
                await("event " + position + " to reach the live subscriber (a lost wake-up otherwise)").atMost(Duration.ofSeconds(5))
                    .pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofNanos(20_000))
                    .until(() -> live.lastEventPosition() == position);
            }
            live.dispose();
        }
    }

    /**
     * The same with demand of one at a time, requested from another thread after each event, and appenders
     * that do not wait: the subscription parks and wakes thousands of times; the last event always arrives.
     */
    @Test
    void oneAtATimeSubscribersAlwaysGetTheLastEvent() throws Exception {
        ExecutorService requesters = Executors.newFixedThreadPool(2);
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            for (int round = 0; round < 20; round++) {
                List<ManualSubscriber> subscribers = new ArrayList<>();
                for (int k = 0; k < 4; k++) {
                    ManualSubscriber s = new ManualSubscriber(1) {
                        @Override
                        protected void hookOnNext(SubscriptionMessage m) {
                            super.hookOnNext(m);
                            requesters.execute(() -> more(1));
                        }
                    };
                    subscribers.add(s);
                    store.subscribe(SubscribeOptions.fromEnd()).subscribe(s);
                }
                List<reactor.core.publisher.Mono<AppendResult>> pending = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    pending.add(store.append("round-" + round, ExpectedRevision.ANY, TestStores.event("T")).cache());
                    pending.get(i).subscribe(r -> { }, e -> { });
                }
                long last = -1;
                for (var p : pending) {
                    last = Math.max(last, TestStores.await(p).firstPosition());
                }
                long lastPosition = last;
                for (ManualSubscriber s : subscribers) {
                    await().atMost(Duration.ofSeconds(10)).until(() -> s.lastEventPosition() == lastPosition);
                    assertThat(s.error).isNull();
                    s.dispose();
                }
            }
        } finally {
            requesters.shutdownNow();
        }
    }

    @Test
    void subscribersStuckInOnNextOnEveryReaderThreadDoNotStallStreamReads() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<reactor.core.Disposable> stuck = new ArrayList<>();
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            try {
                TestStores.appendMany(store, "first", "T", 1, 10);
                // twice as many subscribers as reader threads, each holding its thread in onNext (a slow handler of an
                // embedded app): every reader thread ends up held
                int threads = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
                java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(2 * threads);
                for (int i = 0; i < 2 * threads; i++) {
                    stuck.add(store.subscribe(SubscribeOptions.fromStart()).subscribe(m -> {
                        holding.countDown();
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> holding.getCount() <= threads);
                TestStores.appendMany(store, "second", "T", 3, 10);
                // the read waits for the indexer, which must not be queued behind a stuck subscriber
                assertThat(store.readStream("second", 0, 10, Direction.FORWARDS).collectList().block(Duration.ofSeconds(10)))
                    .extracting(RecordedEvent::revision).containsExactly(0L, 1L, 2L);
            } finally {
                release.countDown();
                stuck.forEach(reactor.core.Disposable::dispose);
            }
        }
    }

    /** The live subscription named {@code name}, as the store holds it. */
    private static LogSubscription live(EventStore store, String name) {
        return store.liveSubscriptions().stream().filter(s -> s.name().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no live subscription named " + name));
    }

    /**
     * A figure of a subscription read between two drains: the subscription answers -1 while its drain loop runs,
     * so this waits for a real value rather than letting -1 pass an upper bound.
     */
    private static long settled(java.util.function.LongSupplier figure) {
        return await().atMost(Duration.ofSeconds(5)).until(figure::getAsLong, value -> value >= 0);
    }
}
