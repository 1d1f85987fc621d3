package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static io.reel.transport.ServerFixture.assertFails;
import static io.reel.transport.WireContractTest.JSON;
import static io.reel.transport.WireContractTest.PROTOBUF;
import static io.reel.transport.WireContractTest.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.reel.proto.AppendRequest;
import io.reel.proto.ConsumerStatus;
import io.reel.proto.EventData;
import io.reel.proto.Filter;
import io.reel.proto.GroupAck;
import io.reel.proto.GroupDelivery;
import io.reel.proto.GroupJoin;
import io.reel.proto.GroupList;
import io.reel.proto.GroupRef;
import io.reel.proto.GroupSettings;
import io.reel.proto.GroupStatus;
import io.reel.proto.NackAction;
import io.reel.proto.ReplayParkedResult;
import io.reel.proto.StoreInfo;
import io.reel.store.Direction;
import io.reel.store.EventFilter;
import io.reel.store.RecordedEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * The {@code group.*} routes on the wire, with a raw rsocket-java client that builds its metadata by hand, as a
 * client in another language would: protobuf and JSON, over TCP and WebSocket, and every bad input.
 */
@Timeout(60)
class GroupWireContractTest {
    @TempDir
    Path dir;
    ServerFixture fixture;

    @AfterEach
    void stop() {
        fixture.close();
    }

    void append(RawClient client, String stream) {
        client.call("append", AppendRequest.newBuilder().setStream(stream).addEvents(EventData.newBuilder().setType("Happened")
            .setData(ByteString.copyFromUtf8("{}"))).build().toByteArray()).block(TIMEOUT);
    }

    GroupStatus status(RawClient client, String group) {
        return parse(GroupList.parser(), client.call("group.list", new byte[0]).block(TIMEOUT)).getGroupsList().stream()
            .filter(g -> g.getName().equals(group)).findFirst().orElseThrow();
    }

    static byte[] ack(long position) {
        return GroupAck.newBuilder().addPositions(position).build().toByteArray();
    }

    static byte[] nack(long position, NackAction action) {
        return GroupAck.newBuilder().addPositions(position).setNack(true).setAction(action).setReason("test").build().toByteArray();
    }

    byte[] stored(long position) {
        RecordedEvent r = fixture.store.readAll(position, 1, Direction.FORWARDS, EventFilter.none()).blockFirst(TIMEOUT);
        byte[] out = new byte[r.encodedLength()];
        r.encoded().duplicate().get(out);
        return out;
    }

    @ParameterizedTest
    @EnumSource(RawClient.Kind.class)
    void aProtobufClientManagesJoinsAcksNacksAndReplaysAGroup(RawClient.Kind kind) {
        fixture = new ServerFixture(dir);
        try (RawClient client = RawClient.connect(fixture.server, kind, PROTOBUF)) {
            append(client, "a");
            append(client, "b");
            append(client, "c");
            assertThat(client.call("group.create", GroupSettings.newBuilder().setName("g").setMaxInFlight(2).setStart(true)
                .setMaxRetries(1).setFilter(Filter.newBuilder().addEventTypes("Happened")).build().toByteArray()).block(TIMEOUT)).isEmpty();

            byte[] stored0 = stored(0);
            byte[] stored2 = stored(2);
            Sinks.Many<byte[]> up = Sinks.many().unicast().onBackpressureBuffer();
            Flux<GroupDelivery> deliveries = client.channel("group.join", GroupJoin.newBuilder().setGroup("g").setConsumer("raw").build()
                .toByteArray(), up.asFlux()).map(b -> parse(GroupDelivery.parser(), b));
            StepVerifier.create(deliveries, 0)
                .thenRequest(10)
                .assertNext(d -> {
                    assertThat(d.getRecord().getPosition()).isZero();
                    assertThat(d.getRecord().toByteArray()).isEqualTo(stored0);
                    assertThat(d.getRetryCount()).isZero();
                })
                .assertNext(d -> assertThat(d.getRecord().getPosition()).isEqualTo(1))
                .expectNoEvent(Duration.ofMillis(200))
                .then(() -> up.tryEmitNext(GroupAck.newBuilder().addPositions(0).addPositions(1).build().toByteArray()))
                .assertNext(d -> assertThat(d.getRecord().getPosition()).isEqualTo(2))
                .then(() -> up.tryEmitNext(nack(2, NackAction.RETRY)))
                .assertNext(d -> {
                    assertThat(d.getRecord().getPosition()).isEqualTo(2);
                    assertThat(d.getRetryCount()).isEqualTo(1);
                })
                .then(() -> up.tryEmitNext(nack(2, NackAction.RETRY)))
                .expectNoEvent(Duration.ofMillis(300))
                .then(() -> {
                    await().atMost(TIMEOUT).until(() -> status(client, "g").getParked() == 1);
                    GroupStatus status = status(client, "g");
                    assertThat(status.getParked()).isEqualTo(1);
                    assertThat(status.getCheckpoint()).isEqualTo(3);
                    assertThat(status.getConsumersList()).extracting(ConsumerStatus::getId).containsExactly("raw");
                    List<byte[]> parked = client.stream("group.parked", GroupRef.newBuilder().setName("g").build().toByteArray())
                        .collectList().block(TIMEOUT);
                    assertThat(parked).hasSize(1);
                    assertThat(parked.get(0)).isEqualTo(stored2);
                    assertThat(parse(ReplayParkedResult.parser(), client.call("group.replay-parked", GroupRef.newBuilder().setName("g")
                        .build().toByteArray()).block(TIMEOUT)).getReplayed()).isEqualTo(1);
                })
                .assertNext(d -> {
                    assertThat(d.getRecord().getPosition()).isEqualTo(2);
                    assertThat(d.getRetryCount()).isZero();
                })
                .then(() -> up.tryEmitNext(ack(2)))
                .expectNoEvent(Duration.ofMillis(300))
                .thenCancel()
                .verify(TIMEOUT);
            await().atMost(TIMEOUT).until(() -> {
                GroupStatus s = status(client, "g");
                return s.getParked() == 0 && s.getCheckpoint() == 3 && s.getConsumersCount() == 0;
            });
            assertThat(client.call("group.delete", GroupRef.newBuilder().setName("g").build().toByteArray()).block(TIMEOUT)).isEmpty();
            assertThat(parse(GroupList.parser(), client.call("group.list", new byte[0]).block(TIMEOUT)).getGroupsList()).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(RawClient.Kind.class)
    void aJsonClientJoinsAndAcknowledges(RawClient.Kind kind) throws Exception {
        fixture = new ServerFixture(dir);
        try (RawClient json = RawClient.connect(fixture.server, kind, JSON)) {
            json.call("append", "{\"stream\": \"order-1\", \"events\": [{\"type\": \"Placed\", \"data\": \"e30=\"}]}"
                .getBytes()).block(TIMEOUT);
            assertThat(RawClient.text(json.call("group.create", "{\"name\": \"j\", \"maxInFlight\": 4, \"filter\": {\"streamPrefixes\": [\"order-\"]}}"
                .getBytes()).block(TIMEOUT))).isEqualTo("{}");
            Sinks.Many<byte[]> up = Sinks.many().unicast().onBackpressureBuffer();
            StepVerifier.create(json.channel("group.join", "{\"group\": \"j\"}".getBytes(), up.asFlux()).map(RawClient::text), 0)
                .thenRequest(1)
                .assertNext(text -> assertThat(text).startsWith("{\"record\":{").contains("\"stream\":\"order-1\"").contains("\"type\":\"Placed\"")
                    .contains("\"retryCount\":0"))
                .then(() -> up.tryEmitNext("{\"positions\": [\"0\"]}".getBytes()))
                .then(() -> json.call("append", "{\"stream\": \"order-1\", \"events\": [{\"type\": \"Paid\"}]}".getBytes()).block(TIMEOUT))
                .thenRequest(1)
                .assertNext(text -> assertThat(text).contains("\"position\":\"1\"").contains("\"type\":\"Paid\""))
                .then(() -> up.tryEmitNext("{\"positions\": [1], \"nack\": true, \"action\": \"SKIP\"}".getBytes()))
                .thenCancel()
                .verify(TIMEOUT);
            await().atMost(TIMEOUT).until(() -> RawClient.text(json.call("group.list", "{}".getBytes()).block(TIMEOUT))
                .contains("\"checkpoint\":\"2\""));
            GroupList.Builder list = GroupList.newBuilder();
            JsonFormat.parser().merge(RawClient.text(json.call("group.list", new byte[0]).block(TIMEOUT)), list);
            assertThat(list.getGroups(0).getFilter()).isEqualTo("streamPrefixes=[order-]");
            assertThat(list.getGroups(0).getCheckpoint()).isEqualTo(2);
        }
    }

    @ParameterizedTest
    @EnumSource(RawClient.Kind.class)
    void badInputToEveryGroupRouteFailsAloneWithItsCode(RawClient.Kind kind) {
        fixture = new ServerFixture(dir);
        try (RawClient client = RawClient.connect(fixture.server, kind, PROTOBUF)) {
            byte[] garbage = {(byte) 0xFF, 0x01, 0x02};
            byte[] g = GroupRef.newBuilder().setName("g").build().toByteArray();
            byte[] nope = GroupRef.newBuilder().setName("nope").build().toByteArray();
            byte[] empty = GroupRef.getDefaultInstance().toByteArray();

            assertFails(client.call("group.create", garbage), "INVALID_ARGUMENT");
            assertFails(client.call("group.create", GroupSettings.getDefaultInstance().toByteArray()), "INVALID_ARGUMENT");
            assertFails(client.call("group.create", GroupSettings.newBuilder().setName("g").setFilter(Filter.newBuilder().setStreamRegex("(["))
                .build().toByteArray()), "INVALID_ARGUMENT");
            assertFails(client.call("group.create", GroupSettings.newBuilder().setName("g").setMaxInFlight(-1).build().toByteArray()),
                "INVALID_ARGUMENT");
            assertFails(client.call("group.create", GroupSettings.newBuilder().setName("g").setPosition(-1).build().toByteArray()),
                "INVALID_ARGUMENT");
            client.call("group.create", GroupSettings.newBuilder().setName("g").setMaxRetries(1).build().toByteArray()).block(TIMEOUT);
            assertFails(client.call("group.create", GroupSettings.newBuilder().setName("g").build().toByteArray()), "INVALID_ARGUMENT");

            assertFails(client.call("group.update", garbage), "INVALID_ARGUMENT");
            assertFails(client.call("group.update", GroupSettings.newBuilder().setName("nope").build().toByteArray()), "NOT_FOUND");
            assertFails(client.call("group.update", GroupSettings.newBuilder().setName("g").setMaxRetries(-5).build().toByteArray()),
                "INVALID_ARGUMENT");
            assertFails(client.call("group.delete", garbage), "INVALID_ARGUMENT");
            assertFails(client.call("group.delete", empty), "INVALID_ARGUMENT");
            assertFails(client.call("group.delete", nope), "NOT_FOUND");
            assertFails(client.call("group.list", garbage), "INVALID_ARGUMENT");
            assertFails(client.stream("group.parked", garbage), "INVALID_ARGUMENT");
            assertFails(client.stream("group.parked", empty), "INVALID_ARGUMENT");
            assertFails(client.stream("group.parked", nope), "NOT_FOUND");
            assertFails(client.call("group.replay-parked", garbage), "INVALID_ARGUMENT");
            assertFails(client.call("group.replay-parked", empty), "INVALID_ARGUMENT");
            assertFails(client.call("group.replay-parked", nope), "NOT_FOUND");

            byte[] join = GroupJoin.newBuilder().setGroup("g").build().toByteArray();
            assertFails(client.channel("group.join", garbage, Flux.never()), "INVALID_ARGUMENT");
            assertFails(client.channel("group.join", GroupJoin.getDefaultInstance().toByteArray(), Flux.never()), "INVALID_ARGUMENT");
            assertFails(client.channel("group.join", GroupJoin.newBuilder().setGroup("g").setMaxInFlight(-1).build().toByteArray(),
                Flux.never()), "INVALID_ARGUMENT");
            assertFails(client.channel("group.join", GroupJoin.newBuilder().setGroup("nope").build().toByteArray(), Flux.never()),
                "NOT_FOUND");
            assertFails(client.channel("group.join", join, Flux.just(garbage)), "INVALID_ARGUMENT");
            assertFails(client.channel("group.join", join, Flux.just(GroupAck.getDefaultInstance().toByteArray())), "INVALID_ARGUMENT");
            assertFails(client.channel("group.join", join, Flux.just(GroupAck.newBuilder().addPositions(0).setNack(true).setActionValue(7)
                .build().toByteArray())), "INVALID_ARGUMENT");
            assertFails(client.stream("group.join", join), "NOT_FOUND");
            assertFails(client.call("group.parked", g), "NOT_FOUND");
            assertFails(client.channel("group.list", new byte[0], Flux.never()), "NOT_FOUND");
            assertFails(client.channel("group.joined", join, Flux.never()), "NOT_FOUND");

            assertThat(fixture.rejected("INVALID_ARGUMENT")).isGreaterThanOrEqualTo(19);
            StoreInfo info = parse(StoreInfo.parser(), client.call("info", new byte[0]).block(TIMEOUT));
            assertThat(info.getHead()).isZero();
            assertThat(parse(GroupList.parser(), client.call("group.list", new byte[0]).block(TIMEOUT)).getGroupsList())
                .extracting(GroupStatus::getName).containsExactly("g");
            assertThat(fixture.store.groups().list().get(0).consumers()).isEmpty();
        }
    }
}
