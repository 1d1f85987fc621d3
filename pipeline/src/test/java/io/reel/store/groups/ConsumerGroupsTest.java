package io.reel.store.groups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Competing consumers: ack, retry, park, per-stream order, consumers leaving, restarts. */
@Timeout(60)
class ConsumerGroupsTest {
    private static final StoreSettings SETTINGS = StoreSettings.builder().segmentSize(1 << 20).maxEventSize(4096).build();

    @TempDir
    Path dir;

    private static void appendMany(EventStore store, int streams, int perStream, String type) {
        Flux.range(0, streams * perStream)
            .concatMap(i -> store.append("order-" + (i % streams), ExpectedRevision.ANY, EventData.of(type, new byte[8])))
            .blockLast(Duration.ofSeconds(30));
    }

    /** Handles deliveries with a random delay off the group thread, acking each, recording (stream, revision). */
    private static Disposable consumer(EventStore store, String group, long seed, Map<String, List<Long>> handledByStream,
                                       Map<Long, AtomicInteger> deliveries) {
        Random random = new Random(seed);
        return store.groups().join(group, 8, "c" + seed)
            .flatMap(d -> Mono.fromRunnable(() -> {
                deliveries.computeIfAbsent(d.event().position(), p -> new AtomicInteger()).incrementAndGet();
                handledByStream.computeIfAbsent(d.event().stream(), s -> Collections.synchronizedList(new ArrayList<>())).add(d.event().revision());
                d.ack();
            }).delaySubscription(Duration.ofMillis(random.nextInt(3))).subscribeOn(Schedulers.parallel()), 8)
            .subscribe();
    }

    @Test
    void everyEventIsAcknowledgedOnceAndEachStreamStaysInOrder() {
        try (EventStore store = EventStore.open(dir, SETTINGS)) {
            appendMany(store, 40, 25, "Placed");
            store.groups().create(GroupOptions.named("billing")).block();
            Map<String, List<Long>> byStream = new ConcurrentHashMap<>();
            Map<Long, AtomicInteger> deliveries = new ConcurrentHashMap<>();
            List<Disposable> consumers = List.of(consumer(store, "billing", 1, byStream, deliveries),
                consumer(store, "billing", 2, byStream, deliveries), consumer(store, "billing", 3, byStream, deliveries));
            appendMany(store, 40, 25, "Paid");
            await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.size() == 2000);
            await().atMost(Duration.ofSeconds(5)).until(() -> store.groups().list().get(0).checkpoint() == 2000);
            assertThat(deliveries.values()).allMatch(n -> n.get() == 1);
            for (List<Long> revisions : byStream.values()) {
                for (int i = 0; i < revisions.size(); i++) {
                    assertThat(revisions.get(i)).isEqualTo(i);
                }
            }
            GroupStatus status = store.groups().list().get(0);
            assertThat(status.lagEvents()).isZero();
            assertThat(status.consumers()).hasSize(3).allMatch(c -> c.delivered() > 0);
            consumers.forEach(Disposable::dispose);
        }
    }

    @Test
    void nackedEventsAreRetriedThenParkedAndCanBeReplayed() {
        try (EventStore store = EventStore.open(dir, SETTINGS)) {
            store.groups().create(GroupOptions.named("g").maxRetries(2)).block();
            store.append("a", ExpectedRevision.ANY, EventData.of("Poison", new byte[1])).block();
            store.append("b", ExpectedRevision.ANY, EventData.of("Fine", new byte[1])).block();
            List<Integer> poisonRetries = new CopyOnWriteArrayList<>();
            AtomicInteger fine = new AtomicInteger();
            Disposable c = store.groups().join("g").subscribe(d -> {
                if (d.event().type().equals("Poison")) {
                    poisonRetries.add(d.retryCount());
                    d.nack(Nack.RETRY, "cannot bill");
                } else {
                    fine.incrementAndGet();
                    d.ack();
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> store.groups().list().get(0).parked() == 1);
            assertThat(poisonRetries).containsExactly(0, 1, 2);
            assertThat(fine.get()).isEqualTo(1);
            assertThat(store.groups().parked("g").map(RecordedEvent::type).collectList().block()).containsExactly("Poison");
            await().atMost(Duration.ofSeconds(5)).until(() -> store.groups().list().get(0).checkpoint() == 2);
            c.dispose();
            List<RecordedEvent> replayed = new CopyOnWriteArrayList<>();
            Disposable healed = store.groups().join("g").subscribe(d -> {
                replayed.add(d.event());
                d.ack();
            });
            assertThat(store.groups().replayParked("g").block()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> store.groups().list().get(0).parked() == 0);
            assertThat(replayed).extracting(RecordedEvent::type).containsExactly("Poison");
            healed.dispose();
        }
    }

    @Test
    void anUnacknowledgedDeliveryIsRetriedAfterTheTimeout() {
        io.reel.store.MutableClock clock = new io.reel.store.MutableClock(java.time.Instant.parse("2026-01-01T00:00:00Z"));
        StoreSettings settings = StoreSettings.builder().segmentSize(1 << 20).maxEventSize(4096).clock(clock).build();
        try (EventStore store = EventStore.open(dir, settings)) {
            store.groups().create(GroupOptions.named("slow").ackTimeout(Duration.ofHours(1))).block();
            store.append("x", ExpectedRevision.ANY, EventData.of("E", new byte[1])).block();
            List<Integer> retries = new CopyOnWriteArrayList<>();
            Disposable c = store.groups().join("slow").subscribe(d -> {
                retries.add(d.retryCount());
                if (d.retryCount() == 1) {
                    d.ack();
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> retries.size() == 1);
            assertThat(retries).as("no retry before the store's clock passes the timeout").containsExactly(0);
            clock.advance(Duration.ofMinutes(61));
            await().atMost(Duration.ofSeconds(10)).until(() -> retries.size() == 2 && store.groups().list().get(0).checkpoint() == 1);
            assertThat(retries).containsExactly(0, 1);
            c.dispose();
        }
    }

    @Test
    void aConsumerThatLeavesHandsItsInFlightEventsToTheOthers() {
        try (EventStore store = EventStore.open(dir, SETTINGS)) {
            store.groups().create(GroupOptions.named("g")).block();
            appendMany(store, 10, 5, "E");
            List<Delivery> held = new CopyOnWriteArrayList<>();
            Disposable dying = store.groups().join("g", 5, "dying").subscribe(held::add);
            await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 5);
            Map<Long, AtomicInteger> handled = new ConcurrentHashMap<>();
            Disposable survivor = store.groups().join("g", 5, "survivor").subscribe(d -> {
                handled.computeIfAbsent(d.event().position(), p -> new AtomicInteger()).incrementAndGet();
                d.ack();
            });
            dying.dispose();
            await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() == 50);
            for (Delivery d : held) {
                assertThat(handled).containsKey(d.event().position());
            }
            held.get(0).ack();
            assertThat(handled.values()).allMatch(n -> n.get() == 1);
            await().atMost(Duration.ofSeconds(5)).until(() -> store.groups().list().get(0).checkpoint() == 50);
            survivor.dispose();
        }
    }

    @Test
    void aRestartKeepsTheCheckpointSettingsAndParkedEvents() {
        try (EventStore store = EventStore.open(dir, SETTINGS)) {
            store.groups().create(GroupOptions.named("g").maxRetries(0)).block();
            appendMany(store, 5, 4, "E");
            AtomicInteger acked = new AtomicInteger();
            Disposable c = store.groups().join("g", 1, null).subscribe(d -> {
                if (d.event().position() == 3) {
                    d.nack(Nack.PARK, "bad");
                } else if (acked.get() < 10) {
                    acked.incrementAndGet();
                    d.ack();
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> acked.get() == 10 && store.groups().list().get(0).parked() == 1);
            c.dispose();
        }
        try (EventStore store = EventStore.open(dir, SETTINGS)) {
            GroupStatus status = store.groups().list().get(0);
            assertThat(status.name()).isEqualTo("g");
            assertThat(status.parked()).isEqualTo(1);
            assertThat(status.checkpoint()).isGreaterThanOrEqualTo(11);
            List<Long> rest = new CopyOnWriteArrayList<>();
            Disposable c = store.groups().join("g").subscribe(d -> {
                rest.add(d.event().position());
                d.ack();
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> store.groups().list().get(0).checkpoint() == 20);
            assertThat(rest).doesNotContain(3L).contains(19L);
            assertThat(rest).allMatch(p -> p >= 10);
            c.dispose();
        }
    }

    @Test
    void zeroRetriesSurvivesARestart() {
        try (EventStore store = EventStore.open(dir, SETTINGS)) {
            store.groups().create(GroupOptions.named("strict").maxRetries(0)).block();
        }
        try (EventStore store = EventStore.open(dir, SETTINGS)) {
            store.append("x", ExpectedRevision.ANY, EventData.of("E", new byte[1])).block();
            List<Integer> deliveries = new CopyOnWriteArrayList<>();
            Disposable c = store.groups().join("strict").subscribe(d -> {
                deliveries.add(d.retryCount());
                d.nack(Nack.RETRY, "no");
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> store.groups().list().get(0).parked() == 1);
            assertThat(deliveries).containsExactly(0);
            c.dispose();
        }
    }

    @Test
    void lateProgressOfADeletedGroupDoesNotMoveTheGroupMadeAgainUnderItsName() {
        // a cluster's applied group changes, in log order (sequence = place in the log)
        try (EventStore store = EventStore.open(dir, SETTINGS.toBuilder().replicatedGroups(true).build())) {
            io.reel.proto.GroupSettings g = GroupCodec.toProto(GroupOptions.named("g"));
            store.groups().apply(io.reel.proto.GroupChange.newBuilder().setCreate(g).build(), 0, 1);
            io.reel.proto.GroupProgress first = io.reel.proto.GroupProgress.newBuilder().setName("g").setCheckpoint(5).setIncarnation(1).build();
            store.groups().apply(io.reel.proto.GroupChange.newBuilder().setProgress(first).build(), 0, 2);
            assertThat(store.groups().list().get(0).checkpoint()).isEqualTo(5);
            store.groups().apply(io.reel.proto.GroupChange.newBuilder().setDelete("g").build(), 0, 3);
            store.groups().apply(io.reel.proto.GroupChange.newBuilder().setCreate(g).build(), 0, 4);
            // the old leader's progress, committed after the group was made again
            io.reel.proto.GroupProgress late = first.toBuilder().setCheckpoint(1_000_000).build();
            store.groups().apply(io.reel.proto.GroupChange.newBuilder().setProgress(late).build(), 0, 5);
            assertThat(store.groups().list().get(0).checkpoint()).as("the new group's checkpoint").isZero();
            io.reel.proto.GroupProgress own = late.toBuilder().setCheckpoint(7).setIncarnation(4).build();
            store.groups().apply(io.reel.proto.GroupChange.newBuilder().setProgress(own).build(), 0, 6);
            assertThat(store.groups().list().get(0).checkpoint()).isEqualTo(7);
        }
    }

    @Test
    void badRequestsAreClearErrors() {
        try (EventStore store = EventStore.open(dir, SETTINGS)) {
            store.groups().create(GroupOptions.named("g")).block();
            assertThatThrownBy(() -> store.groups().create(GroupOptions.named("g")).block())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            assertThatThrownBy(() -> store.groups().join("nope").blockFirst())
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
            assertThatThrownBy(() -> GroupOptions.named("x").maxInFlight(0))
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.getMessage()).contains("max_in_flight"));
            // a name its file could not be named after (in a cluster such a create would stop every node's applying)
            assertThat(GroupOptions.named("a".repeat(180)).name()).hasSize(180);
            assertThatThrownBy(() -> GroupOptions.named("a".repeat(181)))
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.getMessage()).contains("too long"));
            assertThatThrownBy(() -> GroupOptions.named("é".repeat(31)))
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            List<Throwable> ended = new CopyOnWriteArrayList<>();
            store.groups().join("g").subscribe(d -> { }, ended::add);
            store.groups().delete("g").block();
            await().atMost(Duration.ofSeconds(5)).until(() -> !ended.isEmpty());
            assertThat(((ReelException) ended.get(0)).code()).isEqualTo(ErrorCode.NOT_FOUND);
            assertThat(store.groups().list()).isEmpty();
        }
    }
}
