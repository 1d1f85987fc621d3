package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.groups.GroupOptions;
import io.reel.store.groups.GroupStatus;
import io.reel.store.groups.Nack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * Persistent subscription groups over RSocket with {@link ReelClient}: competing remote consumers, each on its
 * own connection, against a real server on 127.0.0.1.
 */
@Timeout(60)
class RemoteGroupsTest {
    @TempDir
    Path dir;
    ServerFixture fixture;
    final List<ReelClient> clients = new ArrayList<>();
    final List<Disposable> consumers = new ArrayList<>();

    @AfterEach
    void stop() {
        consumers.forEach(Disposable::dispose);
        clients.forEach(ReelClient::close);
        if (fixture != null) {
            fixture.close();
        }
    }

    ReelClient connect(int port) {
        return connect(port, null);
    }

    ReelClient connect(int port, String token) {
        ReelClient client = ReelClient.connect(ClientSettings.builder().port(port).token(token)
            .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).build()).block(TIMEOUT);
        clients.add(client);
        return client;
    }

    int port() {
        return fixture.server.tcpAddress().getPort();
    }

    static EventData event(String type, int n) {
        return EventData.json(type, "{\"n\":" + n + "}");
    }

    void appendSpread(int streams, int perStream, String type) {
        Flux.range(0, streams * perStream)
            .concatMap(i -> fixture.store.append("order-" + (i % streams), ExpectedRevision.ANY, event(type, i)))
            .blockLast(TIMEOUT);
    }

    static GroupStatus status(ReelClient client, String group) {
        return client.groups().list().block(TIMEOUT).stream().filter(g -> g.name().equals(group)).findFirst().orElseThrow();
    }

    // ---------------------------------------------------------------------------------------------- tests

    @Test
    void threeRemoteConsumersAcknowledgeEveryEventExactlyOnceAndKeepEachStreamInOrder() {
        fixture = new ServerFixture(dir);
        ReelClient admin = connect(port());
        admin.groups().create(GroupOptions.named("billing").maxInFlight(16)).block(TIMEOUT);
        appendSpread(30, 20, "Placed");

        Map<Long, AtomicInteger> deliveries = new ConcurrentHashMap<>();
        Map<String, List<Long>> revisionsByStream = new ConcurrentHashMap<>();
        for (int c = 0; c < 3; c++) {
            Random random = new Random(c);
            ReelClient consumer = connect(port());
            consumers.add(consumer.groups().join("billing", 8, "remote-" + c)
                .flatMap(d -> Mono.fromRunnable(() -> {
                    deliveries.computeIfAbsent(d.event().position(), p -> new AtomicInteger()).incrementAndGet();
                    revisionsByStream.computeIfAbsent(d.event().stream(), s -> Collections.synchronizedList(new ArrayList<>()))
                        .add(d.event().revision());
                    d.ack();
                }).delaySubscription(Duration.ofMillis(random.nextInt(2))).subscribeOn(Schedulers.parallel()), 8)
                .subscribe());
        }
        Flux.range(0, 600).concatMap(i -> admin.append("order-" + (i % 30), ExpectedRevision.ANY, event("Paid", i))).blockLast(TIMEOUT);

        await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.size() == 1200 && status(admin, "billing").checkpoint() == 1200);
        assertThat(deliveries.values()).allMatch(n -> n.get() == 1);
        assertThat(revisionsByStream).hasSize(30);
        for (List<Long> revisions : revisionsByStream.values()) {
            assertThat(revisions).containsExactlyElementsOf(LongStream.range(0, 40).boxed().toList());
        }
        GroupStatus status = status(admin, "billing");
        assertThat(status.lagEvents()).isZero();
        assertThat(status.inFlight()).isZero();
        assertThat(status.consumers()).extracting(GroupStatus.Consumer::id)
            .containsExactlyInAnyOrder("remote-0", "remote-1", "remote-2");
        assertThat(status.consumers()).allMatch(c -> c.delivered() > 0 && c.acked() == c.delivered());
    }

    @Test
    void demandAndTheInFlightLimitBoundDeliveriesTogether() {
        fixture = new ServerFixture(dir);
        ReelClient client = connect(port());
        client.groups().create(GroupOptions.named("g")).block(TIMEOUT);
        appendSpread(10, 1, "E");
        List<RemoteDelivery> received = new CopyOnWriteArrayList<>();
        StepVerifier.create(client.groups().join("g", 3).doOnNext(received::add), 0)
            .thenRequest(2)
            .expectNextCount(2)
            .expectNoEvent(Duration.ofMillis(300))
            .thenRequest(5)
            .expectNextCount(1)
            .expectNoEvent(Duration.ofMillis(300))
            .then(() -> received.get(0).ack())
            .expectNextCount(1)
            .expectNoEvent(Duration.ofMillis(300))
            .then(() -> received.forEach(RemoteDelivery::ack))
            .expectNextCount(3)
            .thenCancel()
            .verify(TIMEOUT);
        assertThat(received).extracting(d -> d.event().position()).doesNotHaveDuplicates().hasSize(7);
    }

    @Test
    void acksAreKeptForEveryDeliveryAfterTheGroupsLimitIsRaised() {
        fixture = new ServerFixture(dir);
        ReelClient client = connect(port());
        client.groups().create(GroupOptions.named("wide").maxInFlight(10)).block(TIMEOUT);
        List<RemoteDelivery> received = new CopyOnWriteArrayList<>();
        consumers.add(client.groups().join("wide", 0, "holder").subscribe(received::add));
        await().atMost(TIMEOUT).until(() -> status(client, "wide").consumers().size() == 1);
        // raised past what the join's channel was sized for (four times 10, at least 4096 deliveries held for their acks)
        client.groups().update(GroupOptions.named("wide").maxInFlight(5000)).block(TIMEOUT);
        // a stream each: a group delivers a stream's next event once its previous one is acknowledged
        Flux.range(0, 4200).flatMap(i -> fixture.store.append("wide-" + i, ExpectedRevision.ANY, event("E", i)), 256).blockLast(TIMEOUT);
        await().atMost(Duration.ofSeconds(30)).until(received::size, n -> n == 4200);
        received.forEach(RemoteDelivery::ack);
        await().atMost(Duration.ofSeconds(30)).until(() -> status(client, "wide").checkpoint() == 4200);
        assertThat(status(client, "wide").inFlight()).isZero();
    }

    @Test
    void nackedEventsAreRetriedThenParkedAndParkedEventsAreReadableAndReplayableOverTheWire() {
        fixture = new ServerFixture(dir);
        ReelClient client = connect(port());
        client.groups().create(GroupOptions.named("g").maxRetries(2)).block(TIMEOUT);
        client.append("a", ExpectedRevision.ANY, event("Poison", 0)).block(TIMEOUT);
        client.append("b", ExpectedRevision.ANY, event("Fine", 1)).block(TIMEOUT);
        client.append("c", ExpectedRevision.ANY, event("Unreadable", 2)).block(TIMEOUT);
        client.append("d", ExpectedRevision.ANY, event("Irrelevant", 3)).block(TIMEOUT);
        List<Integer> poisonRetries = new CopyOnWriteArrayList<>();
        List<String> handled = new CopyOnWriteArrayList<>();
        Disposable failing = client.groups().join("g").subscribe(d -> {
            handled.add(d.event().type());
            switch (d.event().type()) {
                case "Poison" -> {
                    poisonRetries.add(d.retryCount());
                    d.nack(Nack.RETRY, "cannot bill");
                }
                case "Unreadable" -> d.nack(Nack.PARK, "bad data");
                case "Irrelevant" -> d.nack(Nack.SKIP, null);
                default -> d.ack();
            }
        });
        consumers.add(failing);
        await().atMost(TIMEOUT).until(() -> {
            GroupStatus s = status(client, "g");
            return s.parked() == 2 && s.checkpoint() == 4 && s.inFlight() == 0;
        });
        assertThat(poisonRetries).containsExactly(0, 1, 2);
        assertThat(handled).containsOnlyOnce("Fine", "Unreadable", "Irrelevant");
        assertThat(client.groups().parked("g").collectList().block(TIMEOUT)).extracting(RecordedEvent::type)
            .containsExactly("Poison", "Unreadable");

        failing.dispose();
        List<RecordedEvent> replayed = new CopyOnWriteArrayList<>();
        consumers.add(client.groups().join("g").subscribe(d -> {
            replayed.add(d.event());
            d.ack();
        }));
        assertThat(client.groups().replayParked("g").block(TIMEOUT)).isEqualTo(2);
        await().atMost(TIMEOUT).until(() -> status(client, "g").parked() == 0 && replayed.size() == 2);
        assertThat(replayed).extracting(RecordedEvent::type).containsExactlyInAnyOrder("Poison", "Unreadable");
        assertThat(client.groups().parked("g").collectList().block(TIMEOUT)).isEmpty();
        assertThat(client.groups().replayParked("g").block(TIMEOUT)).isZero();
    }

    @Test
    void aConsumerWhoseConnectionDiesMidBatchHandsItsInFlightEventsToTheOthers() throws IOException {
        fixture = new ServerFixture(dir);
        ReelClient admin = connect(port());
        admin.groups().create(GroupOptions.named("g")).block(TIMEOUT);
        appendSpread(20, 5, "E");
        try (SeverableProxy proxy = new SeverableProxy(fixture.server.tcpAddress())) {
            ReelClient dying = connect(proxy.port());
            List<RemoteDelivery> held = new CopyOnWriteArrayList<>();
            Set<Long> ackedByDying = ConcurrentHashMap.newKeySet();
            consumers.add(dying.groups().join("g", 6, "dying").subscribe(d -> {
                held.add(d);
                if (ackedByDying.size() < 2) {
                    ackedByDying.add(d.event().position());
                    d.ack();
                }
            }));
            await().atMost(TIMEOUT).until(() -> status(admin, "g").consumers().stream()
                .anyMatch(c -> c.id().equals("dying") && c.acked() == 2 && c.inFlight() == 6) && held.size() >= 8);
            assertThat(held).hasSize(8);
            Set<Long> inFlightAtDeath = new HashSet<>();
            held.stream().map(d -> d.event().position()).filter(p -> !ackedByDying.contains(p)).forEach(inFlightAtDeath::add);

            Map<Long, AtomicInteger> handledBySurvivor = new ConcurrentHashMap<>();
            ReelClient survivor = connect(port());
            consumers.add(survivor.groups().join("g", 8, "survivor").subscribe(d -> {
                handledBySurvivor.computeIfAbsent(d.event().position(), p -> new AtomicInteger()).incrementAndGet();
                d.ack();
            }));
            // position p is event p / 20 of stream order-(p % 20); the streams with an event in flight wait for it
            Set<Long> blockedStreams = new HashSet<>();
            inFlightAtDeath.forEach(p -> blockedStreams.add(p % 20));
            List<Long> unblocked = LongStream.range(0, 100).filter(p -> !blockedStreams.contains(p % 20)).boxed().toList();
            await().atMost(TIMEOUT).until(() -> {
                Set<Long> done = new HashSet<>(handledBySurvivor.keySet());
                done.addAll(ackedByDying);
                return done.containsAll(unblocked);
            });
            assertThat(handledBySurvivor).doesNotContainKeys(inFlightAtDeath.toArray(Long[]::new));

            proxy.sever();
            await().atMost(TIMEOUT).until(() -> status(admin, "g").checkpoint() == 100);
            assertThat(handledBySurvivor.keySet()).containsAll(inFlightAtDeath).doesNotContainAnyElementsOf(ackedByDying);
            Set<Long> done = new HashSet<>(handledBySurvivor.keySet());
            done.addAll(ackedByDying);
            assertThat(done).containsExactlyInAnyOrderElementsOf(LongStream.range(0, 100).boxed().toList());
            assertThat(handledBySurvivor.values()).allMatch(n -> n.get() == 1);
            held.forEach(RemoteDelivery::ack);
            assertThat(status(admin, "g").consumers()).extracting(GroupStatus.Consumer::id).containsExactly("survivor");
        }
    }

    @Test
    void groupStateSurvivesAStoreAndServerRestartAndAJoinedConsumerRejoins() {
        fixture = new ServerFixture(dir);
        int tcpPort = port();
        int wsPort = fixture.server.webSocketAddress().getPort();
        ReelClient client = connect(tcpPort);
        EventFilter orders = EventFilter.builder().streamPrefix("order-").build();
        client.groups().create(GroupOptions.named("g").filter(orders).maxRetries(1).ackTimeout(Duration.ofSeconds(5))).block(TIMEOUT);
        appendSpread(10, 5, "Placed");
        fixture.store.append("noise", ExpectedRevision.ANY, event("Noise", 0)).block(TIMEOUT);
        fixture.store.append("order-poison", ExpectedRevision.ANY, event("Poison", 0)).block(TIMEOUT);

        Map<Long, AtomicInteger> deliveries = new ConcurrentHashMap<>();
        consumers.add(client.groups().join("g", 4, "restarting").subscribe(d -> {
            deliveries.computeIfAbsent(d.event().position(), p -> new AtomicInteger()).incrementAndGet();
            if (d.event().type().equals("Poison")) {
                d.nack(Nack.PARK, "poison");
            } else {
                d.ack();
            }
        }));
        await().atMost(TIMEOUT).until(() -> status(client, "g").checkpoint() == 52 && status(client, "g").parked() == 1);
        GroupStatus before = status(client, "g");

        fixture.close();
        fixture = new ServerFixture(dir, b -> b.tcpPort(tcpPort).webSocketPort(wsPort));
        GroupStatus after = status(client, "g");
        assertThat(after.filter()).isEqualTo(before.filter());
        assertThat(after.checkpoint()).isEqualTo(52);
        assertThat(after.parked()).isEqualTo(1);
        assertThat(client.groups().parked("g").map(RecordedEvent::type).collectList().block(TIMEOUT)).containsExactly("Poison");

        appendSpread(10, 5, "Paid");
        await().atMost(TIMEOUT).until(() -> status(client, "g").checkpoint() == 102);
        List<Long> expected = new ArrayList<>(LongStream.range(0, 50).boxed().toList());
        expected.add(51L);
        expected.addAll(LongStream.range(52, 102).boxed().toList());
        assertThat(deliveries.keySet()).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(deliveries.values()).allMatch(n -> n.get() == 1);
        assertThat(status(client, "g").consumers()).extracting(GroupStatus.Consumer::id).containsExactly("restarting");

        consumers.forEach(Disposable::dispose);
        client.groups().delete("g").block(TIMEOUT);
        assertThat(client.groups().list().block(TIMEOUT)).isEmpty();
    }

    @Test
    void rolesDecideWhoMayManageJoinAndReadGroups() throws IOException {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "reader read\nwriter write\nadmin admin\n");
        fixture = new ServerFixture(dir.resolve("data"), b -> b.tokensFile(tokens));
        ReelClient reader = connect(port(), "reader");
        ReelClient writer = connect(port(), "writer");
        ReelClient admin = connect(port(), "admin");
        assertUnauthorized(writer.groups().create(GroupOptions.named("g")));
        admin.groups().create(GroupOptions.named("g")).block(TIMEOUT);
        assertUnauthorized(writer.groups().update(GroupOptions.named("g").maxInFlight(3)));
        assertUnauthorized(writer.groups().delete("g"));
        assertUnauthorized(reader.groups().replayParked("g"));
        assertThatThrownBy(() -> reader.groups().join("g").blockFirst(TIMEOUT))
            .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHORIZED))
            .hasMessageContaining("group.join").hasMessageContaining("write");
        assertThat(reader.groups().list().block(TIMEOUT)).extracting(GroupStatus::name).containsExactly("g");
        assertThat(reader.groups().parked("g").collectList().block(TIMEOUT)).isEmpty();

        writer.append("s", ExpectedRevision.ANY, event("E", 0)).block(TIMEOUT);
        RemoteDelivery first = writer.groups().join("g").blockFirst(TIMEOUT);
        assertThat(first.event().type()).isEqualTo("E");
        assertThat(writer.groups().replayParked("g").block(TIMEOUT)).isZero();
        assertThat(fixture.rejected("UNAUTHORIZED")).isEqualTo(5);
    }

    @Test
    void clientSideMistakesFailClearly() {
        fixture = new ServerFixture(dir);
        ReelClient client = connect(port());
        assertCode(client.groups().join("nope", 1).then(), ErrorCode.NOT_FOUND);
        assertCode(client.groups().join("", 1).then(), ErrorCode.INVALID_ARGUMENT);
        assertCode(client.groups().join("g", -1).then(), ErrorCode.INVALID_ARGUMENT);
        assertCode(client.groups().delete(""), ErrorCode.INVALID_ARGUMENT);
        assertCode(client.groups().update(GroupOptions.named("nope")), ErrorCode.NOT_FOUND);
        client.groups().create(GroupOptions.named("g")).block(TIMEOUT);
        assertCode(client.groups().create(GroupOptions.named("g")), ErrorCode.INVALID_ARGUMENT);

        List<Throwable> ended = new CopyOnWriteArrayList<>();
        consumers.add(client.groups().join("g").subscribe(d -> { }, ended::add));
        await().atMost(TIMEOUT).until(() -> status(client, "g").consumers().size() == 1);
        client.groups().delete("g").block(TIMEOUT);
        await().atMost(TIMEOUT).until(() -> !ended.isEmpty());
        assertThat(ended.get(0)).isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }

    static void assertUnauthorized(Mono<?> call) {
        assertCode(call, ErrorCode.UNAUTHORIZED);
    }

    static void assertCode(Mono<?> call, ErrorCode code) {
        StepVerifier.create(call).expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(ReelException.class,
            r -> assertThat(r.code()).isEqualTo(code))).verify(TIMEOUT);
    }
}
