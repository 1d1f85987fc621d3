package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Append semantics under concurrency, checked against a simple model; limits, idempotency, deletes, lock, close. */
@Timeout(60)
class WriterSemanticsTest {
    private static final StoreSettings SMALL = StoreSettings.builder().segmentSize(256 * 1024).maxEventSize(16 * 1024).build();

    @TempDir
    Path dir;

    private static EventData event(String type) {
        return EventData.of(type, type.getBytes());
    }

    @Test
    void exactExpectedRevisionRacesSerialiseIntoOneHistory() throws Exception {
        try (EventStore store = EventStore.open(dir, SMALL)) {
            int threads = 8;
            Map<Long, UUID> winnerByRevision = new ConcurrentHashMap<>();
            AtomicInteger conflicts = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch done = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                pool.execute(() -> {
                    long known = -1;
                    for (int i = 0; i < 60; i++) {
                        EventData e = event("Step");
                        ExpectedRevision expected = known < 0 ? ExpectedRevision.NO_STREAM : ExpectedRevision.exactly(known);
                        try {
                            AppendResult r = store.append("counter", expected, e).block();
                            assertThat(r.nextExpectedRevision()).isEqualTo(known + 1);
                            assertThat(winnerByRevision.put(r.nextExpectedRevision(), e.eventId())).isNull();
                            known = r.nextExpectedRevision();
                        } catch (WrongExpectedVersionException w) {
                            assertThat(w.actualRevision()).isGreaterThan(known);
                            assertThat(w.stream()).isEqualTo("counter");
                            known = w.actualRevision();
                            conflicts.incrementAndGet();
                        }
                    }
                    done.countDown();
                });
            }
            assertThat(done.await(50, TimeUnit.SECONDS)).isTrue();
            pool.shutdown();
            List<RecordedEvent> stream = store.readStream("counter", 0, 0, Direction.FORWARDS).collectList().block();
            assertThat(stream).hasSize(winnerByRevision.size());
            for (RecordedEvent r : stream) {
                assertThat(r.eventId()).isEqualTo(winnerByRevision.get(r.revision()));
            }
            assertThat(conflicts.get()).isPositive();
        }
    }

    @Test
    void manyProducersOnManyStreamsLandDenseAndInOrder() {
        try (EventStore store = EventStore.open(dir, SMALL)) {
            List<AppendResult> results = Flux.range(0, 2000)
                .flatMap(i -> store.append("s-" + (i % 37), ExpectedRevision.ANY, event("E" + i), event("F" + i)), 256)
                .collectList().block(Duration.ofSeconds(50));
            assertThat(results).hasSize(2000);
            List<Long> firsts = new ArrayList<>(results.stream().map(AppendResult::firstPosition).toList());
            Collections.sort(firsts);
            for (int i = 0; i < firsts.size(); i++) {
                assertThat(firsts.get(i)).isEqualTo(2L * i);
            }
            for (int s = 0; s < 37; s++) {
                List<RecordedEvent> events = store.readStream("s-" + s, 0, 0, Direction.FORWARDS).collectList().block();
                for (int i = 0; i < events.size(); i++) {
                    assertThat(events.get(i).revision()).isEqualTo(i);
                    if (i > 0) {
                        assertThat(events.get(i).position()).isGreaterThan(events.get(i - 1).position());
                    }
                }
            }
        }
    }

    @Test
    void onlyOneOfManyNoStreamAppendsWins() {
        try (EventStore store = EventStore.open(dir, SMALL)) {
            List<String> outcomes = Flux.range(0, 50)
                .flatMap(i -> store.append("unique", ExpectedRevision.NO_STREAM, event("Created")).map(r -> "ok")
                    .onErrorResume(WrongExpectedVersionException.class, e -> Mono.just("conflict")), 50)
                .collectList().block();
            assertThat(outcomes.stream().filter("ok"::equals)).hasSize(1);
            assertThatThrownBy(() -> store.append("missing", ExpectedRevision.STREAM_EXISTS, event("X")).block())
                .isInstanceOfSatisfying(WrongExpectedVersionException.class, e -> {
                    assertThat(e.actualRevision()).isEqualTo(-1);
                    assertThat(e.getMessage()).startsWith("WRONG_EXPECTED_VERSION: stream 'missing' does not exist");
                });
        }
    }

    @Test
    void retriesWithTheSameEventIdsReturnTheEarlierResult() {
        try (EventStore store = EventStore.open(dir, SMALL)) {
            List<EventData> events = List.of(event("A"), event("B"), event("C"));
            store.append("other", ExpectedRevision.ANY, event("X")).block();
            AppendResult first = store.append("idem", ExpectedRevision.NO_STREAM, events).block();
            long head = store.headPosition();
            assertThat(store.append("idem", ExpectedRevision.NO_STREAM, events).block()).isEqualTo(first);
            assertThat(store.append("idem", ExpectedRevision.exactly(7), events).block()).isEqualTo(first);
            assertThat(store.append("idem", ExpectedRevision.ANY, events).block()).isEqualTo(first);
            assertThat(store.headPosition()).isEqualTo(head);
            assertThatThrownBy(() -> store.append("idem", ExpectedRevision.ANY, events.subList(0, 2)).block())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            assertThatThrownBy(() -> store.append("idem", ExpectedRevision.ANY, List.of(events.get(2), event("D"))).block())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.getMessage()).contains("was already written at position"));
            assertThat(store.headPosition()).isEqualTo(head);
            // the same ids to another stream are another append
            assertThat(store.append("idem-2", ExpectedRevision.ANY, events).block().firstPosition()).isEqualTo(head);
        }
    }

    @Test
    void anExactRevisionRetryIsRecognisedBeyondTheIdWindow() {
        try (EventStore store = EventStore.open(dir, SMALL.toBuilder().idempotencyWindow(0).build())) {
            List<EventData> events = List.of(event("A"), event("B"));
            store.append("aggregate", ExpectedRevision.NO_STREAM, event("Created")).block();
            AppendResult first = store.append("aggregate", ExpectedRevision.exactly(0), events).block();
            store.append("aggregate", ExpectedRevision.exactly(2), event("C")).block();
            // the id window is off: the stream index alone recognises the retry below
            assertThat(store.readStream("aggregate", 0, 0, Direction.FORWARDS).count().block()).isEqualTo(4);
            assertThat(store.append("aggregate", ExpectedRevision.exactly(0), events).block()).isEqualTo(first);
            assertThatThrownBy(() -> store.append("aggregate", ExpectedRevision.exactly(0), List.of(event("X"), event("Y"))).block())
                .isInstanceOf(WrongExpectedVersionException.class);
            assertThat(store.headPosition()).isEqualTo(4);
        }
    }

    @Test
    void anExactRevisionRetryIsRecognisedWhereverTheIndexerStands() {
        // with the id window off, the stream index and the batch being built are what tell a retry: the answer must
        // not depend on how far the indexer (its own thread) has got, or two replicas applying the same entries
        // would answer differently
        try (EventStore store = EventStore.open(dir, SMALL.toBuilder().idempotencyWindow(0).build())) {
            List<EventData> events = List.of(event("A"), event("B"));
            List<java.util.concurrent.CompletableFuture<AppendResult>> inOneBatch = new java.util.ArrayList<>();
            store.together(() -> {
                inOneBatch.add(store.append("aggregate", ExpectedRevision.NO_STREAM, event("Created")).toFuture());
                inOneBatch.add(store.append("aggregate", ExpectedRevision.exactly(0), events).toFuture());
                inOneBatch.add(store.append("aggregate", ExpectedRevision.exactly(2), event("C")).toFuture());
                inOneBatch.add(store.append("aggregate", ExpectedRevision.exactly(0), events).toFuture());
            });
            assertThat(inOneBatch.get(3).join()).as("a retry in the batch of the append it repeats").isEqualTo(inOneBatch.get(1).join());
            for (int i = 0; i < 100; i++) {
                String stream = "aggregate-" + i;
                store.append(stream, ExpectedRevision.NO_STREAM, event("Created")).block();
                AppendResult first = store.append(stream, ExpectedRevision.exactly(0), events).block();
                store.append(stream, ExpectedRevision.exactly(2), event("C")).block();
                assertThat(store.append(stream, ExpectedRevision.exactly(0), events).block()).as("a retry right after, %s", stream).isEqualTo(first);
            }
        }
    }

    @Test
    void theIdWindowIsHalfItsSizeInPositionsOnARunningAndOnAReopenedStore() {
        // 16 ids: an ANY retry is recognised while its first event is among the last 8 positions, whatever else the
        // table still holds; so a replica that ran on and one that just reopened (its table refilled) answer alike
        StoreSettings window = SMALL.toBuilder().idempotencyWindow(16).build();
        List<EventData> old = List.of(event("Old"));
        List<EventData> recent = List.of(event("Recent"));
        AppendResult recentFirst;
        try (EventStore store = EventStore.open(dir, window)) {
            store.append("s", ExpectedRevision.ANY, old).block();
            for (int i = 0; i < 8; i++) {
                store.append("filler", ExpectedRevision.ANY, event("F")).block();
            }
            recentFirst = store.append("s", ExpectedRevision.ANY, recent).block();
            assertThat(recentFirst.firstPosition()).isEqualTo(9);
            assertThat(store.append("s", ExpectedRevision.ANY, recent).block()).as("1 position back").isEqualTo(recentFirst);
            assertThat(store.append("s", ExpectedRevision.ANY, old).block().firstPosition())
                .as("10 positions back, though its id is still in the table: written again").isEqualTo(10);
        }
        try (EventStore store = EventStore.open(dir, window)) {
            assertThat(store.append("s", ExpectedRevision.ANY, recent).block()).as("2 positions back, after a reopen").isEqualTo(recentFirst);
            for (int i = 0; i < 7; i++) {
                store.append("filler", ExpectedRevision.ANY, event("F")).block();
            }
            assertThat(store.append("s", ExpectedRevision.ANY, recent).block().firstPosition())
                .as("9 positions back: written again").isEqualTo(18);
        }
    }

    @Test
    void concurrentRetriesOfOneAppendWriteItOnce() {
        try (EventStore store = EventStore.open(dir, SMALL)) {
            List<EventData> events = List.of(event("A"), event("B"));
            Set<AppendResult> results = Flux.range(0, 64)
                .flatMap(i -> store.append("once", ExpectedRevision.ANY, events), 64)
                .collect(java.util.stream.Collectors.toSet()).block();
            assertThat(results).hasSize(1);
            assertThat(store.readStream("once", 0, 0, Direction.FORWARDS).count().block()).isEqualTo(2);
        }
    }

    @Test
    void retryAfterARestartStillFindsTheEarlierAppend() {
        List<EventData> events = List.of(event("A"), event("B"));
        AppendResult first;
        try (EventStore store = EventStore.open(dir, SMALL)) {
            store.append("before", ExpectedRevision.ANY, event("X")).block();
            first = store.append("crash-retry", ExpectedRevision.NO_STREAM, events).block();
        }
        try (EventStore store = EventStore.open(dir, SMALL)) {
            assertThat(store.append("crash-retry", ExpectedRevision.NO_STREAM, events).block()).isEqualTo(first);
            assertThat(store.headPosition()).isEqualTo(3);
        }
    }

    @Test
    void limitsNameTheLimitAndTheValue() {
        try (EventStore store = EventStore.open(dir, SMALL.toBuilder().maxEventsPerAppend(5).build())) {
            assertThatThrownBy(() -> store.append("big", ExpectedRevision.ANY, EventData.of("Big", new byte[16 * 1024 + 1])).block())
                .isInstanceOfSatisfying(ReelException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.TOO_LARGE);
                    assertThat(e.getMessage()).contains("16385").contains("16384").contains("maxEventSize");
                });
            List<EventData> six = List.of(event("1"), event("2"), event("3"), event("4"), event("5"), event("6"));
            assertThatThrownBy(() -> store.append("many", ExpectedRevision.ANY, six).block())
                .isInstanceOfSatisfying(ReelException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.TOO_LARGE);
                    assertThat(e.getMessage()).contains("6 events").contains("limit is 5");
                });
            assertThatThrownBy(() -> store.append("", ExpectedRevision.ANY, event("X")).block())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            assertThatThrownBy(() -> store.append("$system", ExpectedRevision.ANY, event("X")).block())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.getMessage()).contains("reserved"));
            assertThatThrownBy(() -> store.append("none", ExpectedRevision.ANY, List.of()).block())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            assertThat(store.headPosition()).isZero();
            assertThat(store.append("fine", ExpectedRevision.ANY, EventData.of("Ok", new byte[16 * 1024])).block().firstPosition()).isZero();
        }
    }

    @Test
    void aFullQueueFailsFastWithOverloadedAndLosesNothingAcknowledged() {
        try (EventStore store = EventStore.open(dir, SMALL.toBuilder().writerQueueCapacity(4).build())) {
            List<Object> outcomes = Flux.range(0, 3000)
                .flatMap(i -> store.append("flood-" + (i % 3), ExpectedRevision.ANY, event("E")).<Object>map(r -> r)
                    .onErrorResume(ReelException.class, e -> Mono.just(e.code())), 3000)
                .collectList().block(Duration.ofSeconds(50));
            long acknowledged = outcomes.stream().filter(o -> o instanceof AppendResult).count();
            long overloaded = outcomes.stream().filter(o -> o == ErrorCode.OVERLOADED).count();
            assertThat(acknowledged + overloaded).isEqualTo(3000);
            assertThat(overloaded).isPositive();
            assertThat(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).count().block()).isEqualTo(acknowledged);
        }
    }

    @Test
    void softDeleteContinuesRevisionsAndHardDeleteIsForever() {
        try (EventStore store = EventStore.open(dir, SMALL)) {
            store.append("soft", ExpectedRevision.NO_STREAM, event("A"), event("B")).block();
            store.deleteStream("soft", ExpectedRevision.exactly(1), false).block();
            assertThat(store.readStream("soft", 0, 0, Direction.FORWARDS).count().block()).isZero();
            AppendResult again = store.append("soft", ExpectedRevision.NO_STREAM, event("C")).block();
            assertThat(again.nextExpectedRevision()).isEqualTo(2);
            assertThat(store.readStream("soft", 0, 0, Direction.FORWARDS).map(RecordedEvent::type).collectList().block()).containsExactly("C");

            store.append("hard", ExpectedRevision.NO_STREAM, event("A")).block();
            assertThatThrownBy(() -> store.deleteStream("hard", ExpectedRevision.exactly(5), true).block())
                .isInstanceOf(WrongExpectedVersionException.class);
            store.deleteStream("hard", ExpectedRevision.ANY, true).block();
            assertThatThrownBy(() -> store.append("hard", ExpectedRevision.ANY, event("B")).block())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STREAM_DELETED));
            assertThatThrownBy(() -> store.readStream("hard", 0, 0, Direction.FORWARDS).blockLast())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STREAM_DELETED));
        }
        try (EventStore store = EventStore.open(dir, SMALL)) {
            assertThatThrownBy(() -> store.append("hard", ExpectedRevision.ANY, event("B")).block())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STREAM_DELETED));
            assertThat(store.append("soft", ExpectedRevision.exactly(2), event("D")).block().nextExpectedRevision()).isEqualTo(3);
        }
    }

    @Test
    @SuppressWarnings("try") // the open store is the lock holder; the block needs no reference to it
    void aSecondOpenOfTheSameDirectoryIsLocked() {
        try (EventStore store = EventStore.open(dir, SMALL)) {
            assertThatThrownBy(() -> EventStore.open(dir, SMALL))
                .isInstanceOfSatisfying(ReelException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.LOCKED);
                    assertThat(e.getMessage()).contains(dir.toAbsolutePath().toString()).contains("pid " + ProcessHandle.current().pid());
                });
        }
        EventStore.open(dir, SMALL).close();
    }

    @Test
    void blockingOnTheWriterThreadFailsFastInsteadOfDeadlocking() {
        try (EventStore store = EventStore.open(dir, SMALL)) {
            assertThatThrownBy(() -> store.append("a", ExpectedRevision.ANY, event("X"))
                .map(r -> store.append("b", ExpectedRevision.ANY, event("Y")).block())
                .block(Duration.ofSeconds(10)))
                .hasMessageContaining("block()/blockFirst()/blockLast() are blocking");
            assertThat(store.append("c", ExpectedRevision.ANY, event("Z")).block(Duration.ofSeconds(10))).isNotNull();
        }
    }

    @Test
    void closingFailsNewAppendsAndEndsSubscriptionsWithClosed() {
        EventStore store = EventStore.open(dir, SMALL);
        store.append("x", ExpectedRevision.ANY, event("X")).block();
        List<SubscriptionMessage> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> ended = new java.util.concurrent.atomic.AtomicReference<>();
        store.subscribe(SubscribeOptions.fromStart()).subscribe(received::add, ended::set);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 2);
        Mono<AppendResult> late = store.append("x", ExpectedRevision.ANY, event("Y"));
        store.close();
        assertThat(ended.get()).as("told before close() returns").isInstanceOfSatisfying(ReelException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.CLOSED));
        assertThatThrownBy(late::block).isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CLOSED));
    }

    @Test
    void aSubscriberMayCloseTheStoreFromItsOwnCallback() {
        EventStore store = EventStore.open(dir, SMALL);
        store.append("x", ExpectedRevision.ANY, event("X")).block();
        java.util.concurrent.atomic.AtomicReference<Throwable> ended = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean closedInCallback = new java.util.concurrent.atomic.AtomicBoolean();
        store.subscribe(SubscribeOptions.fromStart()).subscribe(m -> {
            if (m instanceof SubscriptionMessage.CaughtUp) {
                store.close();
                closedInCallback.set(true);
            }
        }, ended::set);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).untilTrue(closedInCallback);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> ended.get() != null);
        assertThat(((ReelException) ended.get()).code()).isEqualTo(ErrorCode.CLOSED);
    }
}
