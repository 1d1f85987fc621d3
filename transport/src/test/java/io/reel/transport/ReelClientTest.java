package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.reel.store.AppendResult;
import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StreamMetadata;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** {@link ReelClient} against a real server: the embedded API's behaviour, over the wire, across restarts. */
@Timeout(60)
class ReelClientTest {
    @TempDir
    Path dir;
    ServerFixture fixture;
    ReelClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    ReelClient connect(ClientSettings.Transport transport, WireFormat format) {
        int port = transport == ClientSettings.Transport.TCP ? fixture.server.tcpAddress().getPort()
            : fixture.server.webSocketAddress().getPort();
        return ReelClient.connect(ClientSettings.builder().port(port).transport(transport).format(format)
            .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).maxBatch(50).build()).block(TIMEOUT);
    }

    static EventData event(int n) {
        return EventData.json("Happened", "{\"n\":" + n + "}");
    }

    @ParameterizedTest
    @EnumSource(WireFormat.class)
    void behavesAsTheEmbeddedStore(WireFormat format) {
        fixture = new ServerFixture(dir);
        client = connect(ClientSettings.Transport.TCP, format);
        AppendResult first = client.append("order-1", ExpectedRevision.NO_STREAM, event(0), event(1)).block(TIMEOUT);
        assertThat(first).isEqualTo(new AppendResult(0, 1, 1));
        EventData retried = event(2);
        AppendResult once = client.append("order-2", ExpectedRevision.ANY, retried).block(TIMEOUT);
        assertThat(client.append("order-2", ExpectedRevision.NO_STREAM, retried).block(TIMEOUT)).isEqualTo(once);
        StepVerifier.create(client.append("order-1", ExpectedRevision.NO_STREAM, event(3)))
            .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ReelException.class)
                .satisfies(r -> assertThat(((ReelException) r).code()).isEqualTo(ErrorCode.WRONG_EXPECTED_VERSION)))
            .verify(TIMEOUT);
        for (int i = 0; i < 30; i++) {
            client.append("bulk-" + (i % 3), ExpectedRevision.ANY, IntStream.range(0, 10).mapToObj(ReelClientTest::event).toList())
                .block(TIMEOUT);
        }

        assertSameRecords(client.readStream("order-1", 0, 0, Direction.FORWARDS), fixture.store.readStream("order-1", 0, 0, Direction.FORWARDS));
        assertSameRecords(client.readStream("bulk-1", EventSource.END, 7, Direction.BACKWARDS),
            fixture.store.readStream("bulk-1", EventSource.END, 7, Direction.BACKWARDS));
        assertSameRecords(client.readAll(0, 0, Direction.FORWARDS, EventFilter.none()),
            fixture.store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()));
        EventFilter bulk2 = EventFilter.builder().streamPrefix("bulk-2").build();
        assertSameRecords(client.readAll(EventSource.END, 0, Direction.BACKWARDS, bulk2),
            fixture.store.readAll(EventSource.END, 0, Direction.BACKWARDS, bulk2));
        assertThat(client.head().block(TIMEOUT)).isEqualTo(fixture.store.headPosition());

        client.setStreamMetadata("bulk-0", StreamMetadata.NONE.withMaxCount(5)).block(TIMEOUT);
        assertThat(client.streamMetadata("bulk-0").block(TIMEOUT).maxCount()).isEqualTo(5);
        assertThat(client.readStream("bulk-0", 0, 0, Direction.FORWARDS).count().block(TIMEOUT)).isEqualTo(5);
        client.deleteStream("bulk-0", ExpectedRevision.ANY, false).block(TIMEOUT);
        assertThat(client.readStream("bulk-0", 0, 0, Direction.FORWARDS).count().block(TIMEOUT)).isZero();
    }

    @ParameterizedTest
    @EnumSource(WireFormat.class)
    void readsAndSubscribesWithOneRecordPerPayload(WireFormat format) {
        fixture = new ServerFixture(dir);
        client = ReelClient.connect(ClientSettings.builder().port(fixture.server.tcpAddress().getPort()).format(format).maxBatch(1)
            .build()).block(TIMEOUT);
        client.append("s", ExpectedRevision.ANY, IntStream.range(0, 5).mapToObj(ReelClientTest::event).toList()).block(TIMEOUT);
        assertSameRecords(client.readStream("s", 1, 3, Direction.FORWARDS), fixture.store.readStream("s", 1, 3, Direction.FORWARDS));
        assertSameRecords(client.readAll(EventSource.END, 0, Direction.BACKWARDS, EventFilter.none()),
            fixture.store.readAll(EventSource.END, 0, Direction.BACKWARDS, EventFilter.none()));
        assertThat(client.subscribe(SubscribeOptions.fromStart()).take(6).map(SubscriptionMessage::nextPosition).collectList()
            .block(TIMEOUT)).containsExactly(1L, 2L, 3L, 4L, 5L, 5L);
    }

    static void assertSameRecords(Flux<RecordedEvent> remote, Flux<RecordedEvent> local) {
        List<RecordedEvent> expected = local.collectList().block(TIMEOUT);
        List<RecordedEvent> actual = remote.collectList().block(TIMEOUT);
        assertThat(expected).isNotEmpty();
        assertThat(actual).extracting(RecordedEvent::encoded).containsExactlyElementsOf(
            expected.stream().map(RecordedEvent::encoded).toList());
    }

    @Test
    void subscriptionsDeliverTheEmbeddedMessages() {
        fixture = new ServerFixture(dir);
        client = connect(ClientSettings.Transport.WEBSOCKET, WireFormat.PROTOBUF);
        for (int i = 0; i < 3; i++) {
            fixture.store.append("noise", ExpectedRevision.ANY, IntStream.range(0, 1000).mapToObj(ReelClientTest::event).toList())
                .block(TIMEOUT);
        }
        fixture.store.append("rare", ExpectedRevision.ANY, event(0)).block(TIMEOUT);
        EventFilter rare = EventFilter.builder().streamPrefix("rare").build();
        List<SubscriptionMessage> local = fixture.store.subscribe(SubscribeOptions.fromStart().filter(rare)).take(4)
            .collectList().block(TIMEOUT);
        List<SubscriptionMessage> remote = client.subscribe(SubscribeOptions.fromStart().filter(rare)).take(4).collectList().block(TIMEOUT);
        assertThat(remote).extracting(m -> m.getClass().getSimpleName()).containsExactlyElementsOf(
            local.stream().map(m -> m.getClass().getSimpleName()).toList());
        assertThat(remote).extracting(SubscriptionMessage::nextPosition).containsExactlyElementsOf(
            local.stream().map(SubscriptionMessage::nextPosition).toList());
        assertThat(remote).filteredOn(m -> m instanceof SubscriptionMessage.Checkpoint).isNotEmpty();
        assertThat(remote).filteredOn(m -> m instanceof SubscriptionMessage.CaughtUp).hasSize(1);

        StepVerifier.create(client.subscribe(SubscribeOptions.fromPosition(2990)), 0)
            .thenRequest(10)
            .expectNextCount(10)
            .expectNoEvent(Duration.ofMillis(200))
            .thenRequest(1)
            .assertNext(m -> assertThat(m).isInstanceOf(SubscriptionMessage.Event.class))
            .thenRequest(1)
            .assertNext(m -> assertThat(m).isInstanceOf(SubscriptionMessage.CaughtUp.class))
            .thenCancel()
            .verify(TIMEOUT);

        client.checkpoint("projector", 3000).block(TIMEOUT);
        await().atMost(TIMEOUT).until(() -> Long.valueOf(3000).equals(fixture.store.checkpoints().get("projector")));
        StepVerifier.create(client.subscribe(SubscribeOptions.fromStart().name("projector")).take(1))
            .assertNext(m -> assertThat(((SubscriptionMessage.Event) m).event().stream()).isEqualTo("rare"))
            .verifyComplete();
    }

    @ParameterizedTest
    @EnumSource(ClientSettings.Transport.class)
    void aSubscriberSeesNoGapAndNoDuplicateAcrossAServerRestart(ClientSettings.Transport transport) {
        fixture = new ServerFixture(dir);
        int tcpPort = fixture.server.tcpAddress().getPort();
        int wsPort = fixture.server.webSocketAddress().getPort();
        client = connect(transport, WireFormat.PROTOBUF);
        List<Long> positions = Collections.synchronizedList(new ArrayList<>());
        List<SubscriptionMessage> signals = Collections.synchronizedList(new ArrayList<>());
        // named: the checkpoint stored under its name (ahead of it here, as another node's may be) does not move it on a resume
        Disposable subscriber = client.subscribe(SubscribeOptions.fromStart().name("reader")).subscribe(m -> {
            if (m instanceof SubscriptionMessage.Event e) {
                positions.add(e.event().position());
            } else {
                signals.add(m);
            }
        });
        for (int i = 0; i < 20; i++) {
            client.append("s-" + (i % 4), ExpectedRevision.ANY, IntStream.range(0, 25).mapToObj(ReelClientTest::event).toList())
                .block(TIMEOUT);
        }
        await().atMost(TIMEOUT).until(() -> positions.size() >= 500);
        client.checkpoint("reader", 800).block(TIMEOUT);
        await().atMost(TIMEOUT).until(() -> Long.valueOf(800).equals(fixture.store.checkpoints().get("reader")));

        fixture.close();
        Mono<AppendResult> appendWhileDown = client.append("s-0", ExpectedRevision.ANY, event(500)).cache();
        appendWhileDown.subscribe(r -> { }, e -> { });
        fixture = new ServerFixture(dir, b -> b.tcpPort(tcpPort).webSocketPort(wsPort));
        assertThat(appendWhileDown.block(TIMEOUT).firstPosition()).isEqualTo(500);
        for (int i = 0; i < 20; i++) {
            fixture.store.append("s-" + (i % 4), ExpectedRevision.ANY, IntStream.range(0, 25).mapToObj(ReelClientTest::event).toList())
                .block(TIMEOUT);
        }
        await().atMost(TIMEOUT).until(() -> positions.size() >= 1001);
        subscriber.dispose();
        assertThat(positions).containsExactlyElementsOf(LongStream.range(0, 1001).boxed().toList());
        assertThat(signals).extracting(m -> m.getClass().getSimpleName()).containsExactly("CaughtUp");
    }

    @Test
    void aReadResumesAfterTheLastRecordItDeliveredAcrossARestart() {
        fixture = new ServerFixture(dir);
        int tcpPort = fixture.server.tcpAddress().getPort();
        fixture.store.append("s", ExpectedRevision.ANY, IntStream.range(0, 1000).mapToObj(ReelClientTest::event).toList()).block(TIMEOUT);
        client = ReelClient.connect(ClientSettings.builder().port(tcpPort).maxBatch(10).prefetch(1)
            .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).build()).block(TIMEOUT);
        List<Long> positions = new ArrayList<>();
        StepVerifier.create(client.readAll(0, 950, Direction.FORWARDS, EventFilter.none()).map(RecordedEvent::position), 0)
            .thenRequest(100)
            .recordWith(() -> positions)
            .expectNextCount(100)
            .then(() -> {
                fixture.close();
                fixture = new ServerFixture(dir, b -> b.tcpPort(tcpPort));
            })
            .thenRequest(Long.MAX_VALUE)
            .expectNextCount(850)
            .expectComplete()
            .verify(TIMEOUT);
        assertThat(positions).containsExactlyElementsOf(LongStream.range(0, 950).boxed().toList());
    }

    @Test
    void aLiveOnlySubscriberMissesNothingAppendedWhileItReconnects() {
        fixture = new ServerFixture(dir);
        int tcpPort = fixture.server.tcpAddress().getPort();
        fixture.store.append("s", ExpectedRevision.ANY, event(0)).block(TIMEOUT);
        client = ReelClient.connect(ClientSettings.builder().port(tcpPort).reconnectBackoff(Duration.ofMillis(300), Duration.ofMillis(300))
            .build()).block(TIMEOUT);
        List<SubscriptionMessage> messages = Collections.synchronizedList(new ArrayList<>());
        Disposable subscriber = client.subscribe(SubscribeOptions.fromEnd()).subscribe(messages::add);
        await().atMost(TIMEOUT).until(() -> messages.size() == 1);
        fixture.close();
        fixture = new ServerFixture(dir, b -> b.tcpPort(tcpPort));
        fixture.store.append("s", ExpectedRevision.ANY, event(1), event(2)).block(TIMEOUT);
        await().atMost(TIMEOUT).until(() -> messages.size() == 3);
        subscriber.dispose();
        assertThat(messages.get(0)).isEqualTo(new SubscriptionMessage.CaughtUp(1));
        assertThat(messages.subList(1, 3)).extracting(SubscriptionMessage::nextPosition).containsExactly(2L, 3L);
    }

    @Test
    void requestsFailWithTheServersCodeOrAfterTheRequestTimeout() {
        fixture = new ServerFixture(dir);
        client = connect(ClientSettings.Transport.TCP, WireFormat.JSON);
        assertThatThrownBy(() -> client.append("", ExpectedRevision.ANY, event(0)).block(TIMEOUT))
            .isInstanceOf(ReelException.class).hasMessageStartingWith("INVALID_ARGUMENT: stream is empty");
        assertThatThrownBy(() -> client.readStream("", 0, 0, Direction.FORWARDS).blockLast(TIMEOUT))
            .isInstanceOf(ReelException.class).hasMessageStartingWith("INVALID_ARGUMENT: ");
        // larger than the client's own frame limit: refused with TOO_LARGE, not retried until the request timeout (30 s,
        // past the 10 s this test waits)
        try (ReelClient small = ReelClient.connect(ClientSettings.builder().port(fixture.server.tcpAddress().getPort())
            .maxFrameSize(64 * 1024).requestTimeout(Duration.ofSeconds(30)).build()).block(TIMEOUT)) {
            assertThatThrownBy(() -> small.append("big", ExpectedRevision.ANY, EventData.of("Big", new byte[100 * 1024])).block(TIMEOUT))
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TOO_LARGE));
            assertThat(small.append("small", ExpectedRevision.ANY, event(1)).block(TIMEOUT)).isNotNull();
        }
        int port = fixture.server.tcpAddress().getPort();
        fixture.close();
        fixture = null;
        assertThatThrownBy(() -> ReelClient.connect(ClientSettings.builder().port(port).requestTimeout(Duration.ofMillis(500)).build())
            .block(TIMEOUT)).isInstanceOf(ReelException.class).hasMessageStartingWith("IO_ERROR: no answer to info");
        client.close();
        assertThatThrownBy(() -> client.info().block(TIMEOUT)).isInstanceOf(ReelException.class);
    }
    @Test
    void aDeleteWhoseConnectionIsLostAfterItWasSentIsNotSentAgain() {
        // a server that takes the request and drops the connection unanswered: the delete may or may not have happened
        java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
        io.rsocket.transport.netty.server.CloseableChannel server = io.rsocket.core.RSocketServer.create((setup, sending) ->
                Mono.just(new io.rsocket.RSocket() {
                    @Override
                    public Mono<io.rsocket.Payload> requestResponse(io.rsocket.Payload payload) {
                        payload.release();
                        received.incrementAndGet();
                        sending.dispose();
                        return Mono.never();
                    }
                }))
            .bind(io.rsocket.transport.netty.server.TcpServerTransport.create("127.0.0.1", 0)).block(TIMEOUT);
        try {
            client = ReelClient.create(ClientSettings.builder().port(server.address().getPort())
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).requestTimeout(Duration.ofSeconds(5)).build());
            assertThatThrownBy(() -> client.deleteStream("s", ExpectedRevision.ANY, true).block(TIMEOUT))
                .isInstanceOfSatisfying(ReelException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("may or may not have been applied");
                });
            assertThat(received).as("requests the server received").hasValue(1);
        } finally {
            server.dispose();
        }
    }
}
