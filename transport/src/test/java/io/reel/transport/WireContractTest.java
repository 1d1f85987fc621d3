package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static io.reel.transport.ServerFixture.assertFails;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.reel.proto.AppendRequest;
import io.reel.proto.AppendResult;
import io.reel.proto.Checkpoint;
import io.reel.proto.DeleteStreamRequest;
import io.reel.proto.EventBatch;
import io.reel.proto.EventData;
import io.reel.proto.EventRecord;
import io.reel.proto.Expectation;
import io.reel.proto.Filter;
import io.reel.proto.ProjectionList;
import io.reel.proto.ProjectionQuery;
import io.reel.proto.ProjectionState;
import io.reel.proto.ProjectionStatus;
import io.reel.proto.ReadAllRequest;
import io.reel.proto.ReadStreamRequest;
import io.reel.proto.StoreInfo;
import io.reel.proto.StreamMetadata;
import io.reel.proto.SubscribeRequest;
import io.reel.proto.SubscriptionItem;
import io.reel.store.Direction;
import io.reel.store.RecordedEvent;
import io.reel.store.SubscriptionStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/**
 * The RSocket wire contract, checked with a raw rsocket-java client that builds its metadata by hand. Runs
 * once over TCP and once over WebSocket ({@link TcpWireContractTest}, {@link WebSocketWireContractTest}).
 */
@Timeout(60)
abstract class WireContractTest {
    static final String PROTOBUF = "application/x-protobuf";
    static final String JSON = "application/json";

    @TempDir
    Path dir;
    ServerFixture fixture;
    RawClient client;

    abstract RawClient.Kind kind();

    @BeforeEach
    void start() {
        fixture = new ServerFixture(dir, b -> b.projections(new FixedProjections()));
        client = RawClient.connect(fixture.server, kind(), PROTOBUF);
    }

    @AfterEach
    void stop() {
        client.close();
        fixture.close();
    }

    // ---------------------------------------------------------------------------------- helpers

    static EventData event(String type, String data) {
        return EventData.newBuilder().setType(type).setContentType(JSON).setData(ByteString.copyFromUtf8(data)).build();
    }

    AppendResult append(String stream, int count) {
        AppendRequest.Builder r = AppendRequest.newBuilder().setStream(stream);
        for (int i = 0; i < count; i++) {
            r.addEvents(event("Happened", "{\"n\":" + i + "}"));
        }
        return parse(AppendResult.parser(), client.call("append", r.build().toByteArray()).block(TIMEOUT));
    }

    static <T> T parse(com.google.protobuf.Parser<T> parser, byte[] bytes) {
        try {
            return parser.parseFrom(bytes);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    void connectionStillServes() {
        StoreInfo info = parse(StoreInfo.parser(), client.call("info", new byte[0]).block(TIMEOUT));
        assertThat(info.getHead()).isEqualTo(fixture.store.headPosition());
    }

    // ---------------------------------------------------------------------------------- routes

    @Test
    void appendThenReadStreamSendsTheStoredBytes() {
        String id = UUID.randomUUID().toString();
        AppendRequest request = AppendRequest.newBuilder().setStream("order-1").setExpectation(Expectation.NO_STREAM)
            .addEvents(event("Placed", "{}").toBuilder().setEventId(id).setMetadata(ByteString.copyFromUtf8("m")))
            .addEvents(event("Paid", "{}")).build();
        AppendResult partlyIdentified = parse(AppendResult.parser(), client.call("append", request.toByteArray()).block(TIMEOUT));
        assertThat(partlyIdentified.getLastPosition()).isEqualTo(1);
        assertFails(client.call("append", request.toByteArray()), "INVALID_ARGUMENT");
        client.call("stream.delete", DeleteStreamRequest.newBuilder().setStream("order-1").build().toByteArray()).block(TIMEOUT);
        request = request.toBuilder().setStream("order-2").setEvents(1, request.getEvents(1).toBuilder()
            .setEventId(UUID.randomUUID().toString())).build();
        AppendResult result = parse(AppendResult.parser(), client.call("append", request.toByteArray()).block(TIMEOUT));
        assertThat(result).isEqualTo(AppendResult.newBuilder().setFirstPosition(3).setLastPosition(4).setNextExpectedRevision(1).build());

        List<byte[]> payloads = client.stream("read.stream", ReadStreamRequest.newBuilder().setStream("order-2").build().toByteArray())
            .collectList().block(TIMEOUT);
        List<RecordedEvent> stored = fixture.store.readStream("order-2", 0, 0, Direction.FORWARDS).collectList().block(TIMEOUT);
        assertThat(payloads).hasSize(2);
        for (int i = 0; i < 2; i++) {
            assertThat(payloads.get(i)).isEqualTo(bytes(stored.get(i).encoded()));
        }
        EventRecord first = parse(EventRecord.parser(), payloads.get(0));
        assertThat(first.getEventId()).isEqualTo(id);
        assertThat(first.getType()).isEqualTo("Placed");
        assertThat(first.getMetadata().toStringUtf8()).isEqualTo("m");
        EventRecord second = parse(EventRecord.parser(), payloads.get(1));
        assertThat(UUID.fromString(second.getEventId())).isNotNull();
        assertThat(second.getRevision()).isEqualTo(1);

        assertFails(client.call("append", request.toBuilder().clearEvents().addEvents(event("X", "{}")).build().toByteArray()),
            "WRONG_EXPECTED_VERSION");
        AppendResult retried = parse(AppendResult.parser(), client.call("append", request.toByteArray()).block(TIMEOUT));
        assertThat(retried).isEqualTo(result);
        AppendResult exact = parse(AppendResult.parser(), client.call("append", AppendRequest.newBuilder().setStream("order-2")
            .setRevision(1).addEvents(event("Shipped", "{}")).build().toByteArray()).block(TIMEOUT));
        assertThat(exact.getNextExpectedRevision()).isEqualTo(2);
    }

    @Test
    void readsHonourDirectionFromEndMaxCountAndFilter() {
        append("a-1", 3);
        append("b-1", 3);
        append("a-2", 2);
        List<Long> backwards = positions(client.stream("read.stream", ReadStreamRequest.newBuilder().setStream("a-1")
            .setBackwards(true).setFromEnd(true).build().toByteArray()).collectList().block(TIMEOUT));
        assertThat(backwards).containsExactly(2L, 1L, 0L);
        List<Long> limited = positions(client.stream("read.stream", ReadStreamRequest.newBuilder().setStream("b-1")
            .setFromRevision(1).setMaxCount(1).build().toByteArray()).collectList().block(TIMEOUT));
        assertThat(limited).containsExactly(4L);
        assertThat(client.stream("read.stream", ReadStreamRequest.newBuilder().setStream("nobody").build().toByteArray())
            .collectList().block(TIMEOUT)).isEmpty();

        List<Long> all = positions(client.stream("read.all", ReadAllRequest.newBuilder().setFromPosition(2)
            .setFilter(Filter.newBuilder().addStreamPrefixes("a-")).build().toByteArray()).collectList().block(TIMEOUT));
        assertThat(all).containsExactly(2L, 6L, 7L);
        List<Long> allBackwards = positions(client.stream("read.all", ReadAllRequest.newBuilder().setFromEnd(true).setBackwards(true)
            .setMaxCount(3).build().toByteArray()).collectList().block(TIMEOUT));
        assertThat(allBackwards).containsExactly(7L, 6L, 5L);
        List<Long> regex = positions(client.stream("read.all", ReadAllRequest.newBuilder()
            .setFilter(Filter.newBuilder().setStreamRegex("^b-")).build().toByteArray()).collectList().block(TIMEOUT));
        assertThat(regex).containsExactly(3L, 4L, 5L);
    }

    static List<Long> positions(List<byte[]> payloads) {
        return payloads.stream().map(p -> parse(EventRecord.parser(), p).getPosition()).toList();
    }

    @Test
    void maxBatchSendsEventBatchesAndRequestNCountsThem() {
        append("s", 10);
        byte[] read = ReadAllRequest.newBuilder().setMaxBatch(3).build().toByteArray();
        List<Integer> sizes = client.stream("read.all", read).map(p -> parse(EventBatch.parser(), p).getRecordsCount())
            .collectList().block(TIMEOUT);
        assertThat(sizes).containsExactly(3, 3, 3, 1);
        List<Long> order = client.stream("read.all", read).flatMapIterable(p -> parse(EventBatch.parser(), p).getRecordsList())
            .map(EventRecord::getPosition).collectList().block(TIMEOUT);
        assertThat(order).containsExactlyElementsOf(IntStream.range(0, 10).mapToObj(i -> (long) i).toList());

        StepVerifier.create(client.stream("read.all", read), 0)
            .thenRequest(2)
            .expectNextCount(2)
            .expectNoEvent(Duration.ofMillis(200))
            .thenRequest(5)
            .expectNextCount(2)
            .verifyComplete();
    }

    @Test
    void subscribeSendsExactlyWhatWasRequestedAcrossTheSwitchToLive() {
        append("s", 15);
        byte[] request = SubscribeRequest.newBuilder().setStart(true).build().toByteArray();
        List<Long> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        StepVerifier.create(client.stream("subscribe", request).map(p -> parse(EventRecord.parser(), p).getPosition()).doOnNext(seen::add), 0)
            .thenRequest(10)
            .expectNextCount(10)
            .expectNoEvent(Duration.ofMillis(300))
            .then(() -> append("s", 10))
            .thenRequest(10)
            .expectNextCount(10)
            .expectNoEvent(Duration.ofMillis(300))
            .thenRequest(5)
            .expectNextCount(5)
            .expectNoEvent(Duration.ofMillis(200))
            .thenCancel()
            .verify(TIMEOUT);
        assertThat(seen).containsExactlyElementsOf(IntStream.range(0, 25).mapToObj(i -> (long) i).toList());
    }

    @Test
    void batchedSubscriptionCatchesUpInFullBatchesThenFollowsLive() {
        append("s", 1000);
        byte[] request = SubscribeRequest.newBuilder().setStart(true).setMaxBatch(400).build().toByteArray();
        List<Long> positions = new ArrayList<>();
        StepVerifier.create(client.stream("subscribe", request).map(p -> parse(EventBatch.parser(), p)), 0)
            .thenRequest(2)
            .assertNext(b -> assertThat(b.getRecordsCount()).isEqualTo(400))
            .assertNext(b -> assertThat(b.getRecordsCount()).isEqualTo(400))
            .expectNoEvent(Duration.ofMillis(200))
            .thenRequest(10)
            .assertNext(b -> {
                assertThat(b.getRecordsCount()).isEqualTo(200);
                assertThat(b.getRecords(199).getPosition()).isEqualTo(999);
            })
            .then(() -> append("s", 1))
            .assertNext(b -> b.getRecordsList().forEach(r -> positions.add(r.getPosition())))
            .thenCancel()
            .verify(TIMEOUT);
        assertThat(positions).containsExactly(1000L);
    }

    @Test
    void subscribeWithoutFromStartsAtTheEndUnlessTheNameHasACheckpoint() {
        append("s", 5);
        StepVerifier.create(client.stream("subscribe", new byte[0]).map(p -> parse(EventRecord.parser(), p).getPosition()), 0)
            .thenRequest(1)
            .expectNoEvent(Duration.ofMillis(200))
            .then(() -> append("s", 1))
            .expectNext(5L)
            .thenCancel()
            .verify(TIMEOUT);

        client.fireAndForget("checkpoint", Checkpoint.newBuilder().setName("billing").setPosition(3).build().toByteArray()).block(TIMEOUT);
        await().atMost(TIMEOUT).until(() -> Long.valueOf(3).equals(fixture.store.checkpoints().get("billing")));
        StepVerifier.create(client.stream("subscribe", SubscribeRequest.newBuilder().setName("billing").build().toByteArray())
                .map(p -> parse(EventRecord.parser(), p).getPosition()), 0)
            .thenRequest(2)
            .expectNext(3L, 4L)
            .thenCancel()
            .verify(TIMEOUT);
    }

    @Test
    void signalsCarryCaughtUpAndCheckpointsInOrderWithTheEvents() {
        append("a", 2);
        append("b", 3);
        byte[] request = SubscribeRequest.newBuilder().setStart(true).setSignals(true).build().toByteArray();
        List<SubscriptionItem> items = client.stream("subscribe", request).map(p -> parse(SubscriptionItem.parser(), p))
            .take(6).collectList().block(TIMEOUT);
        assertThat(items).extracting(SubscriptionItem::getItemCase).containsExactly(SubscriptionItem.ItemCase.EVENT,
            SubscriptionItem.ItemCase.EVENT, SubscriptionItem.ItemCase.EVENT, SubscriptionItem.ItemCase.EVENT,
            SubscriptionItem.ItemCase.EVENT, SubscriptionItem.ItemCase.CAUGHT_UP);
        assertThat(items.get(5).getCaughtUp()).isEqualTo(5);

        byte[] batched = SubscribeRequest.newBuilder().setStart(true).setSignals(true).setMaxBatch(100).build().toByteArray();
        List<SubscriptionItem> batches = client.stream("subscribe", batched).map(p -> parse(SubscriptionItem.parser(), p))
            .take(2).collectList().block(TIMEOUT);
        assertThat(batches.get(0).getBatch().getRecordsCount()).isEqualTo(5);
        assertThat(batches.get(1).getCaughtUp()).isEqualTo(5);
    }

    @Test
    void streamMetadataAndDeletion() {
        append("s", 5);
        byte[] get = StreamMetadata.newBuilder().setStream("s").build().toByteArray();
        assertThat(parse(StreamMetadata.parser(), client.call("stream.metadata.get", get).block(TIMEOUT)))
            .isEqualTo(StreamMetadata.newBuilder().setStream("s").build());
        client.call("stream.metadata.set", StreamMetadata.newBuilder().setStream("s").setMaxCount(2).build().toByteArray()).block(TIMEOUT);
        assertThat(parse(StreamMetadata.parser(), client.call("stream.metadata.get", get).block(TIMEOUT)).getMaxCount()).isEqualTo(2);
        assertThat(positions(client.stream("read.stream", ReadStreamRequest.newBuilder().setStream("s").build().toByteArray())
            .collectList().block(TIMEOUT))).containsExactly(3L, 4L);

        client.call("stream.delete", DeleteStreamRequest.newBuilder().setStream("s").setHard(true).build().toByteArray()).block(TIMEOUT);
        assertFails(client.stream("read.stream", ReadStreamRequest.newBuilder().setStream("s").build().toByteArray()), "STREAM_DELETED");
        assertFails(client.call("append", AppendRequest.newBuilder().setStream("s").addEvents(event("X", "{}")).build().toByteArray()),
            "STREAM_DELETED");
    }

    @Test
    void infoAndProjections() {
        append("s", 3);
        StoreInfo info = parse(StoreInfo.parser(), client.call("info", new byte[0]).block(TIMEOUT));
        assertThat(info.getHead()).isEqualTo(3);
        assertThat(info.getSegments()).isEqualTo(1);
        assertThat(info.getVersion()).isNotEmpty();
        assertThat(info.getDurability()).isNotEmpty();
        ProjectionList list = parse(ProjectionList.parser(), client.call("projection.list", new byte[0]).block(TIMEOUT));
        assertThat(list.getProjectionsList()).extracting(ProjectionStatus::getName).containsExactly("event-types");
        ProjectionState state = parse(ProjectionState.parser(), client.call("projection.state",
            ProjectionQuery.newBuilder().setName("event-types").build().toByteArray()).block(TIMEOUT));
        assertThat(state.getState().toStringUtf8()).isEqualTo("{\"counts\": {}}");
        assertFails(client.call("projection.state", ProjectionQuery.newBuilder().setName("nope").build().toByteArray()), "NOT_FOUND");

        assertThat(fixture.registry.get("reel.connections").gauge().value()).isEqualTo(1);
        try (RawClient second = RawClient.connect(fixture.server, kind(), PROTOBUF)) {
            second.call("info", new byte[0]).block(TIMEOUT);
            assertThat(fixture.registry.get("reel.connections").gauge().value()).isEqualTo(2);
            assertThat(fixture.server.connections()).isEqualTo(2);
        }
        await().atMost(TIMEOUT).until(() -> fixture.registry.get("reel.connections").gauge().value() == 1);
        assertThat(fixture.registry.get("reel.connections.accepted").counter().count()).isEqualTo(2);
    }

    // ---------------------------------------------------------------------------------- JSON

    @Test
    void jsonClientsUseTheProtobufJsonMapping() {
        try (RawClient json = RawClient.connect(fixture.server, kind(), JSON)) {
            byte[] append = ("{\"stream\":\"order-9\",\"expectation\":\"NO_STREAM\",\"events\":[{\"type\":\"Placed\","
                + "\"contentType\":\"application/json\",\"data\":\"e30=\"},{\"event_id\":\"" + UUID.randomUUID() + "\",\"type\":\"Paid\"}]}")
                .getBytes(StandardCharsets.UTF_8);
            assertThat(RawClient.text(json.call("append", append).block(TIMEOUT)))
                .isEqualTo("{\"firstPosition\":\"0\",\"lastPosition\":\"1\",\"nextExpectedRevision\":\"1\"}");
            assertThat(RawClient.text(json.call("append", ("{\"stream\":\"order-9\",\"revision\":1,\"events\":[{\"type\":\"Shipped\"}]}")
                .getBytes(StandardCharsets.UTF_8)).block(TIMEOUT))).contains("\"nextExpectedRevision\":\"2\"");
            assertThat(RawClient.text(json.call("append", ("{\"stream\":\"order-9\",\"revision\":\"2\",\"events\":[{\"type\":\"Closed\"}]}")
                .getBytes(StandardCharsets.UTF_8)).block(TIMEOUT))).contains("\"nextExpectedRevision\":\"3\"");

            List<String> records = json.stream("read.stream", "{\"stream\":\"order-9\",\"maxCount\":\"2\"}".getBytes(StandardCharsets.UTF_8))
                .map(RawClient::text).collectList().block(TIMEOUT);
            assertThat(records).hasSize(2);
            assertThat(records.get(0)).startsWith("{\"position\":\"0\",\"stream\":\"order-9\",\"revision\":\"0\",\"eventId\":\"").contains("\"type\":\"Placed\"",
                "\"contentType\":\"application/json\"", "\"data\":\"e30=\"");
            assertThat(records.get(1)).startsWith("{\"position\":\"1\",\"stream\":\"order-9\",\"revision\":\"1\"");

            assertThat(RawClient.text(json.call("info", new byte[0]).block(TIMEOUT))).startsWith("{\"head\":\"4\"");
            assertThat(RawClient.text(json.call("info", "{}".getBytes(StandardCharsets.UTF_8)).block(TIMEOUT))).startsWith("{\"head\":\"4\"");
            String batch = json.stream("read.all", "{\"max_batch\":10}".getBytes(StandardCharsets.UTF_8)).map(RawClient::text)
                .blockFirst(TIMEOUT);
            assertThat(batch).startsWith("{\"records\":[{\"position\":\"0\",\"stream\":\"order-9\"");
            String item = json.stream("subscribe", "{\"start\":true,\"signals\":true,\"maxBatch\":10}".getBytes(StandardCharsets.UTF_8))
                .map(RawClient::text).skip(1).blockFirst(TIMEOUT);
            assertThat(item).isEqualTo("{\"caughtUp\":\"4\"}");

            assertFails(json.call("append", "{\"stream\":\"x\",\"evnts\":[]}".getBytes(StandardCharsets.UTF_8)), "INVALID_ARGUMENT");
            assertFails(json.call("info", "{".getBytes(StandardCharsets.UTF_8)), "INVALID_ARGUMENT");
            assertFails(json.call("projection.list", "[1]".getBytes(StandardCharsets.UTF_8)), "INVALID_ARGUMENT");
            assertThat(RawClient.text(json.call("projection.list", new byte[0]).block(TIMEOUT))).contains("event-types");
        }
    }

    @Test
    void aRequestMayOverrideTheDataMimeType() {
        byte[] metadata = RawClient.concat(RawClient.route("info"), RawClient.customEntry("message/x.rsocket.mime-type.v0",
            RawClient.concat(new byte[] {(byte) (JSON.length() - 1)}, JSON.getBytes(StandardCharsets.US_ASCII))));
        String info = RawClient.text(RawClient.data(client.rsocket.requestResponse(RawClient.payload(metadata, new byte[0])).block(TIMEOUT)));
        assertThat(info).startsWith("{");
        byte[] unsupported = RawClient.concat(RawClient.route("info"), RawClient.customEntry("message/x.rsocket.mime-type.v0",
            RawClient.concat(new byte[] {(byte) ("text/csv".length() - 1)}, "text/csv".getBytes(StandardCharsets.US_ASCII))));
        assertFails(client.rsocket.requestResponse(RawClient.payload(unsupported, new byte[0])), "INVALID_ARGUMENT");
        connectionStillServes();
    }

    // ---------------------------------------------------------------------------------- bad input

    @Test
    void badInputFailsThatRequestOnlyOnEveryRoute() {
        append("s", 2);
        byte[] garbage = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01};
        assertFails(client.call("append", garbage), "INVALID_ARGUMENT");
        assertFails(client.call("append", AppendRequest.newBuilder().setStream("s").build().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.call("append", AppendRequest.newBuilder().addEvents(event("X", "{}")).build().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.call("append", AppendRequest.newBuilder().setStream("s").addEvents(event("X", "{}").toBuilder()
            .setEventId("not-a-uuid")).build().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.call("append", AppendRequest.newBuilder().setStream("s").addEvents(event("", "{}")).build().toByteArray()),
            "INVALID_ARGUMENT");
        assertFails(client.call("append", AppendRequest.newBuilder().setStream("s").setRevision(-1).addEvents(event("X", "{}"))
            .build().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.call("append", AppendRequest.newBuilder().setStream("s").addEvents(event("Big", "x").toBuilder()
            .setData(ByteString.copyFrom(new byte[2 << 20]))).build().toByteArray()), "TOO_LARGE");
        assertFails(client.stream("read.stream", garbage), "INVALID_ARGUMENT");
        assertFails(client.stream("read.stream", ReadStreamRequest.getDefaultInstance().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.stream("read.stream", ReadStreamRequest.newBuilder().setStream("s").setMaxBatch(1_000_000).build()
            .toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.stream("read.all", garbage), "INVALID_ARGUMENT");
        assertFails(client.stream("read.all", ReadAllRequest.newBuilder().setFilter(Filter.newBuilder().setTypeRegex("(")).build()
            .toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.stream("read.all", ReadAllRequest.newBuilder().setFromPosition(-1).build().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.stream("subscribe", garbage), "INVALID_ARGUMENT");
        assertFails(client.stream("subscribe", SubscribeRequest.newBuilder().setFilter(Filter.newBuilder().addStreamPrefixes(""))
            .build().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.call("stream.metadata.get", garbage), "INVALID_ARGUMENT");
        assertFails(client.call("stream.metadata.get", StreamMetadata.getDefaultInstance().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.call("stream.metadata.set", StreamMetadata.newBuilder().setStream("s").setSoftDeleted(true).build()
            .toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.call("stream.metadata.set", garbage), "INVALID_ARGUMENT");
        assertFails(client.call("stream.delete", DeleteStreamRequest.getDefaultInstance().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.call("stream.delete", garbage), "INVALID_ARGUMENT");
        assertFails(client.call("projection.state", ProjectionQuery.getDefaultInstance().toByteArray()), "INVALID_ARGUMENT");
        assertFails(client.call("projection.state", garbage), "INVALID_ARGUMENT");
        assertFails(client.call("info", garbage), "INVALID_ARGUMENT");
        assertFails(client.call("projection.list", garbage), "INVALID_ARGUMENT");

        double before = fixture.rejected("INVALID_ARGUMENT");
        client.fireAndForget("checkpoint", Checkpoint.newBuilder().setPosition(3).build().toByteArray()).block(TIMEOUT);
        client.fireAndForget("checkpoint", garbage).block(TIMEOUT);
        await().atMost(TIMEOUT).until(() -> fixture.rejected("INVALID_ARGUMENT") >= before + 1);
        assertThat(fixture.store.checkpoints()).isEmpty();
        connectionStillServes();
    }

    @Test
    void unknownRoutesMissingRoutingAndWrongInteractionsAreNamed() {
        assertFails(client.call("nope", new byte[0]), "NOT_FOUND");
        assertFails(client.stream("info", new byte[0]), "NOT_FOUND");
        assertFails(client.call("subscribe", new byte[0]), "NOT_FOUND");
        assertFails(client.rsocket.requestResponse(io.rsocket.util.DefaultPayload.create(new byte[0])), "INVALID_ARGUMENT");
        assertFails(client.rsocket.requestResponse(RawClient.payload(new byte[] {1, 2, 3}, new byte[0])), "INVALID_ARGUMENT");
        assertFails(client.rsocket.requestChannel(reactor.core.publisher.Flux.just(RawClient.payload(RawClient.route("append"),
            new byte[0]))), "NOT_FOUND");
        assertThat(fixture.rejected("NOT_FOUND")).isGreaterThanOrEqualTo(4);
        connectionStillServes();
    }

    @Test
    void aPayloadAboveTheFrameLimitFailsAloneAndTheConnectionGoesOn() {
        restart(b -> b.maxFrameSize(1 << 20));
        try (RawClient fragmenting = RawClient.connect(fixture.server, kind(), PROTOBUF, RawClient.COMPOSITE, null, 64 * 1024)) {
            byte[] huge = AppendRequest.newBuilder().setStream("s").addEvents(event("Big", "x").toBuilder()
                .setData(ByteString.copyFrom(new byte[3 << 19]))).build().toByteArray();
            assertFails(fragmenting.call("append", huge), "TOO_LARGE");
            assertThat(fixture.rejected("TOO_LARGE")).isEqualTo(1);
            StoreInfo info = parse(StoreInfo.parser(), fragmenting.call("info", new byte[0]).block(TIMEOUT));
            assertThat(info.getHead()).isZero();
        }
        connectionStillServes();
    }

    void restart(java.util.function.Consumer<ServerSettings.Builder> settings) {
        client.close();
        fixture.close();
        fixture = new ServerFixture(dir, settings);
        client = RawClient.connect(fixture.server, kind(), PROTOBUF);
    }

    @Test
    void unsupportedSetupsAreRejectedWithAReason() {
        try (RawClient csv = RawClient.connect(fixture.server, kind(), "text/csv")) {
            StepVerifier.create(csv.call("info", new byte[0])).expectErrorSatisfies(e -> assertThat(e)
                .isInstanceOf(io.rsocket.exceptions.RejectedSetupException.class)
                .hasMessageStartingWith("INVALID_ARGUMENT: data mime type 'text/csv' is not supported")).verify(TIMEOUT);
        }
        try (RawClient routingOnly = RawClient.connect(fixture.server, kind(), PROTOBUF, "application/binary", null, 0)) {
            StepVerifier.create(routingOnly.call("info", new byte[0])).expectErrorSatisfies(e -> assertThat(e)
                .isInstanceOf(io.rsocket.exceptions.RejectedSetupException.class)
                .hasMessageStartingWith("INVALID_ARGUMENT: metadata mime type")).verify(TIMEOUT);
        }
        connectionStillServes();
    }

    // ---------------------------------------------------------------------------------- backpressure and limits

    @Test
    void aStalledSubscriberHoldsABoundedBufferAndSlowsNoOne() {
        for (int i = 0; i < 10; i++) {
            append("s", 1000);
        }
        var stalled = stall(client.stream("subscribe", SubscribeRequest.newBuilder().setStart(true).setName("stalled")
            .build().toByteArray()));
        var stalledBatched = stall(client.stream("subscribe", SubscribeRequest.newBuilder().setStart(true).setName("stalled-batched")
            .setMaxBatch(100).build().toByteArray()));
        try (RawClient other = RawClient.connect(fixture.server, kind(), PROTOBUF)) {
            long count = other.stream("subscribe", SubscribeRequest.newBuilder().setStart(true).setMaxBatch(500).build().toByteArray())
                .map(p -> parse(EventBatch.parser(), p).getRecordsCount()).scan(0L, Long::sum).takeUntil(n -> n >= 10_000)
                .blockLast(TIMEOUT);
            assertThat(count).isEqualTo(10_000);
        }
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(fixture.store.subscriptions()).extracting(SubscriptionStatus::name)
            .contains("stalled", "stalled-batched"));
        for (SubscriptionStatus s : fixture.store.subscriptions()) {
            assertThat(s.position()).as(s.name()).isLessThan(2_000);
        }
        stalled.dispose();
        stalledBatched.dispose();
    }

    /** Subscribes, requests one payload and never more. */
    static reactor.core.Disposable stall(reactor.core.publisher.Flux<byte[]> flux) {
        reactor.core.publisher.BaseSubscriber<byte[]> subscriber = new reactor.core.publisher.BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(org.reactivestreams.Subscription subscription) {
                subscription.request(1);
            }
        };
        flux.subscribe(subscriber);
        return subscriber;
    }

    @Test
    void streamsPerConnectionAreLimited() {
        restart(b -> b.maxStreamsPerConnection(2));
        byte[] live = SubscribeRequest.newBuilder().build().toByteArray();
        var first = client.stream("subscribe", live).subscribe();
        var second = client.stream("subscribe", live).subscribe();
        assertFails(client.stream("subscribe", live), "OVERLOADED");
        first.dispose();
        await().atMost(TIMEOUT).untilAsserted(() -> {
            var third = client.stream("subscribe", live).materialize().take(Duration.ofMillis(200)).collectList().block(TIMEOUT);
            assertThat(third).noneMatch(s -> s.isOnError());
        });
        second.dispose();
        connectionStillServes();
    }

    /** A directory of one projection, {@code event-types}, as the ops module would adapt the runtime. */
    static final class FixedProjections implements ProjectionDirectory {
        @Override
        public reactor.core.publisher.Mono<List<ProjectionStatus>> list() {
            return reactor.core.publisher.Mono.just(List.of(ProjectionStatus.newBuilder().setName("event-types").setStatus("running").build()));
        }

        @Override
        public reactor.core.publisher.Mono<ProjectionState> state(String name) {
            return "event-types".equals(name)
                ? reactor.core.publisher.Mono.just(ProjectionState.newBuilder().setName(name).setContentType("application/json")
                    .setState(ByteString.copyFromUtf8("{\"counts\": {}}")).build())
                : reactor.core.publisher.Mono.empty();
        }
    }

}
