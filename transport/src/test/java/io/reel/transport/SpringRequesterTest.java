package io.reel.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.proto.Expectation;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.http.codec.json.JacksonJsonDecoder;
import org.springframework.http.codec.json.JacksonJsonEncoder;
import org.springframework.http.codec.protobuf.ProtobufDecoder;
import org.springframework.http.codec.protobuf.ProtobufEncoder;
import org.springframework.messaging.rsocket.RSocketRequester;
import org.springframework.messaging.rsocket.RSocketStrategies;
import org.springframework.security.rsocket.metadata.BearerTokenAuthenticationEncoder;
import org.springframework.security.rsocket.metadata.BearerTokenMetadata;
import org.springframework.util.MimeType;
import org.springframework.util.MimeTypeUtils;
import reactor.core.publisher.Flux;

/**
 * A Spring Boot 4 client as it comes, against a real server: Spring's own {@link RSocketRequester}, Spring's
 * Jackson 3 codecs as they come, {@link BearerTokenAuthenticationEncoder} for the token (spring-security-rsocket
 * 6.5: 7.0 is not served by the registry this build reaches; the encoder needs spring-core alone), over TCP
 * and WebSocket, with JSON records and with the generated protobuf classes. Nothing is configured for Reel:
 * replies carry every field, defaults included ({@code "head":"0"} of a fresh store, {@code "metadata":""}),
 * so records with primitive fields map whatever the mapper's settings for missing values.
 */
@Timeout(60)
class SpringRequesterTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final MimeType PROTOBUF = MimeTypeUtils.parseMimeType("application/x-protobuf");
    private static final MimeType AUTHENTICATION = MimeTypeUtils.parseMimeType("message/x.rsocket.authentication.v0");

    /** The JSON shapes of reel.proto as an application would write them: plain records, primitive fields. */
    record Event(String eventId, String type, String contentType, byte[] data) { }

    record AppendRequest(String stream, String expectation, List<Event> events) { }

    record AppendResult(long firstPosition, long lastPosition, long nextExpectedRevision) { }

    record ReadStreamRequest(String stream, long fromRevision, long maxCount, boolean backwards) { }

    record SubscribeRequest(boolean start) { }

    record EventRecord(long position, String stream, long revision, String eventId, String type, String contentType, byte[] data,
                       byte[] metadata, long timestampMicros) { }

    record StoreInfo(long head, long segments, long bytes, String version, String durability) { }

    enum Transport { TCP, WEBSOCKET }

    @TempDir
    Path dir;
    ServerFixture fixture;

    @BeforeEach
    void start() throws IOException {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "spring-token write\n");
        fixture = new ServerFixture(dir.resolve("data"), b -> b.tokensFile(tokens));
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    private RSocketRequester connect(Transport transport, MimeType dataMimeType) {
        RSocketStrategies strategies = RSocketStrategies.builder()
            .encoders(e -> {
                e.add(new JacksonJsonEncoder());
                e.add(new ProtobufEncoder());
                e.add(new BearerTokenAuthenticationEncoder());
            })
            .decoders(d -> {
                d.add(new JacksonJsonDecoder());
                d.add(new ProtobufDecoder());
            })
            .build();
        RSocketRequester.Builder builder = RSocketRequester.builder()
            .rsocketStrategies(strategies)
            .dataMimeType(dataMimeType)
            .setupMetadata(new BearerTokenMetadata("spring-token"), AUTHENTICATION);
        if (transport == Transport.TCP) {
            InetSocketAddress a = fixture.server.tcpAddress();
            return builder.tcp(a.getHostString(), a.getPort());
        }
        InetSocketAddress a = fixture.server.webSocketAddress();
        return builder.websocket(URI.create("ws://" + a.getHostString() + ":" + a.getPort() + "/rsocket"));
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void jsonRecordsAppendReadAndSubscribeWithJacksonDefaults(Transport transport) {
        RSocketRequester requester = connect(transport, MimeTypeUtils.APPLICATION_JSON);
        try {
            StoreInfo fresh = requester.route("info").data(new byte[0]).retrieveMono(StoreInfo.class).block(TIMEOUT);
            assertThat(fresh.head()).isZero();
            assertThat(fresh.durability()).isNotEmpty();
            assertThat(requester.route("info").data(new byte[0]).retrieveMono(String.class).block(TIMEOUT)).contains("\"head\":\"0\"");

            byte[] placed = "{\"total\":12}".getBytes(StandardCharsets.UTF_8);
            AppendResult first = requester.route("append")
                .data(new AppendRequest("order-42", "NO_STREAM", List.of(new Event(UUID.randomUUID().toString(), "OrderPlaced",
                    "application/json", placed))))
                .retrieveMono(AppendResult.class).block(TIMEOUT);
            assertThat(first).isEqualTo(new AppendResult(0, 0, 0));
            String raw = requester.route("read.stream").data(new ReadStreamRequest("order-42", 0, 1, false))
                .retrieveFlux(String.class).blockFirst(TIMEOUT);
            assertThat(raw).as("every field printed, defaults included").contains("\"position\":\"0\"", "\"revision\":\"0\"",
                "\"metadata\":\"\"");
            for (int i = 1; i < 20; i++) {
                AppendResult next = requester.route("append")
                    .data(new AppendRequest("order-42", "ANY", List.of(new Event(UUID.randomUUID().toString(), "OrderNoted",
                        "application/json", ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)))))
                    .retrieveMono(AppendResult.class).block(TIMEOUT);
                assertThat(next.nextExpectedRevision()).isEqualTo(i);
            }

            List<EventRecord> read = requester.route("read.stream").data(new ReadStreamRequest("order-42", 0, 0, false))
                .retrieveFlux(EventRecord.class).collectList().block(TIMEOUT);
            assertThat(read).hasSize(20);
            assertThat(read.get(0).position()).isZero();
            assertThat(read.get(0).revision()).isZero();
            assertThat(read.get(0).type()).isEqualTo("OrderPlaced");
            assertThat(read.get(0).data()).isEqualTo(placed);
            assertThat(read.get(0).metadata()).isEmpty();

            Flux<EventRecord> subscription = requester.route("subscribe").data(new SubscribeRequest(true))
                .retrieveFlux(EventRecord.class).limitRate(3);
            List<Long> positions = subscription.take(20).map(EventRecord::position).collectList().block(TIMEOUT);
            assertThat(positions).containsExactlyElementsOf(java.util.stream.LongStream.range(0, 20).boxed().toList());
        } finally {
            requester.dispose();
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void protobufMessagesAppendReadAndSubscribe(Transport transport) {
        RSocketRequester requester = connect(transport, PROTOBUF);
        try {
            io.reel.proto.AppendRequest request = io.reel.proto.AppendRequest.newBuilder().setStream("task-1")
                .setExpectation(Expectation.NO_STREAM)
                .addEvents(io.reel.proto.EventData.newBuilder().setType("TaskScheduled").setContentType("application/octet-stream")
                    .setData(com.google.protobuf.ByteString.copyFromUtf8("calibrate")))
                .build();
            io.reel.proto.AppendResult result = requester.route("append").data(request)
                .retrieveMono(io.reel.proto.AppendResult.class).block(TIMEOUT);
            assertThat(result.getFirstPosition()).isZero();
            assertThat(result.getNextExpectedRevision()).isZero();

            List<io.reel.proto.EventRecord> read = requester.route("read.stream")
                .data(io.reel.proto.ReadStreamRequest.newBuilder().setStream("task-1").build())
                .retrieveFlux(io.reel.proto.EventRecord.class).collectList().block(TIMEOUT);
            assertThat(read).singleElement().satisfies(r -> {
                assertThat(r.getType()).isEqualTo("TaskScheduled");
                assertThat(r.getData().toStringUtf8()).isEqualTo("calibrate");
            });

            io.reel.proto.EventRecord live = requester.route("subscribe")
                .data(io.reel.proto.SubscribeRequest.newBuilder().setStart(true).build())
                .retrieveFlux(io.reel.proto.EventRecord.class).limitRate(1).blockFirst(TIMEOUT);
            assertThat(live.getStream()).isEqualTo("task-1");
        } finally {
            requester.dispose();
        }
    }
}
