package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static io.reel.transport.ServerFixture.assertFails;
import static io.reel.transport.WireContractTest.JSON;
import static io.reel.transport.WireContractTest.PROTOBUF;
import static io.reel.transport.WireContractTest.event;
import static io.reel.transport.WireContractTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import io.reel.proto.AppendBatch;
import io.reel.proto.AppendBatchResult;
import io.reel.proto.AppendOutcome;
import io.reel.proto.AppendRequest;
import io.reel.proto.AppendResult;
import io.reel.proto.Expectation;
import io.reel.proto.StoreInfo;
import io.reel.store.Direction;
import io.reel.store.RecordedEvent;
import io.rsocket.exceptions.ApplicationErrorException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.test.StepVerifier;

/**
 * The {@code append.batch} route on a real server, with a raw client over TCP and WebSocket: every append of a
 * batch has its own outcome, in order, and only a malformed or oversized batch fails as a whole.
 */
@Timeout(60)
class AppendBatchRouteTest {
    @TempDir
    Path dir;
    ServerFixture fixture;
    RawClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    void start(RawClient.Kind kind, String mime, java.util.function.Consumer<ServerSettings.Builder> settings) {
        fixture = new ServerFixture(dir, settings);
        client = RawClient.connect(fixture.server, kind, mime);
    }

    static AppendRequest append(String stream, Expectation expectation, String... ids) {
        AppendRequest.Builder r = AppendRequest.newBuilder().setStream(stream).setExpectation(expectation);
        for (String id : ids) {
            r.addEvents(event("Happened", "{}").toBuilder().setEventId(id));
        }
        return r.build();
    }

    static String id() {
        return UUID.randomUUID().toString();
    }

    AppendBatchResult batch(AppendRequest... appends) {
        byte[] answer = client.call("append.batch", AppendBatch.newBuilder().addAllAppends(List.of(appends)).build().toByteArray())
            .block(TIMEOUT);
        return parse(AppendBatchResult.parser(), answer);
    }

    /** The text the plain {@code append} route fails {@code request} with. */
    String plainError(AppendRequest request) {
        Throwable[] error = new Throwable[1];
        StepVerifier.create(client.call("append", request.toByteArray())).expectErrorSatisfies(e -> error[0] = e).verify(TIMEOUT);
        assertThat(error[0]).isInstanceOf(ApplicationErrorException.class);
        return error[0].getMessage();
    }

    static AppendResult result(long first, long last, long next) {
        return AppendResult.newBuilder().setFirstPosition(first).setLastPosition(last).setNextExpectedRevision(next).build();
    }

    @ParameterizedTest
    @EnumSource(RawClient.Kind.class)
    void aFailingAppendFailsOnlyItselfAndTheOthersApplyInOrder(RawClient.Kind kind) {
        start(kind, PROTOBUF, b -> { });
        AppendRequest conflict = append("a", Expectation.NO_STREAM, id());
        AppendRequest badId = append("c", Expectation.ANY, "not-a-uuid");
        AppendRequest tooBig = AppendRequest.newBuilder().setStream("d").addEvents(event("Big", "x").toBuilder()
            .setData(ByteString.copyFrom(new byte[2 << 20]))).build();
        AppendBatchResult r = batch(
            append("a", Expectation.NO_STREAM, id(), id()),
            append("b", Expectation.ANY, id()),
            conflict,
            append("a", Expectation.ANY, id()).toBuilder().setRevision(1).build(),
            badId,
            tooBig,
            append("b", Expectation.STREAM_EXISTS, id()));

        List<AppendOutcome> o = r.getOutcomesList();
        assertThat(o).hasSize(7);
        assertThat(o.get(0).getResult()).isEqualTo(result(0, 1, 1));
        assertThat(o.get(1).getResult()).isEqualTo(result(2, 2, 0));
        assertThat(o.get(2).getError().getCode()).isEqualTo("WRONG_EXPECTED_VERSION");
        assertThat(o.get(3).getResult()).isEqualTo(result(3, 3, 2));
        assertThat(o.get(4).getError().getCode()).isEqualTo("INVALID_ARGUMENT");
        assertThat(o.get(5).getError().getCode()).isEqualTo("TOO_LARGE");
        assertThat(o.get(6).getResult()).isEqualTo(result(4, 4, 1));
        assertThat(fixture.store.headPosition()).isEqualTo(5);

        // the same codes and sentences as the append route
        assertThat(o.get(2).getError().getMessage()).startsWith("stream 'a' is at revision 1, but the request expected NO_STREAM");
        for (int i : new int[] {4, 5}) {
            AppendRequest again = i == 4 ? badId : tooBig;
            assertThat(plainError(again)).isEqualTo(o.get(i).getError().getCode() + ": " + o.get(i).getError().getMessage());
        }
        List<String> streams = fixture.store.readAll(0, 0, Direction.FORWARDS, io.reel.store.EventFilter.none())
            .map(RecordedEvent::stream).collectList().block(TIMEOUT);
        assertThat(streams).containsExactly("a", "a", "b", "a", "b");
    }

    @ParameterizedTest
    @EnumSource(RawClient.Kind.class)
    void anIdempotentRetryInsideABatchReturnsTheFirstResult(RawClient.Kind kind) {
        start(kind, PROTOBUF, b -> { });
        String x = id();
        String y = id();
        AppendRequest first = append("s", Expectation.NO_STREAM, x, y);
        AppendRequest partial = append("s", Expectation.ANY, y);
        AppendRequest other = append("t", Expectation.ANY, id());
        AppendBatchResult r = batch(first, other, first, partial);
        assertThat(r.getOutcomes(0).getResult()).isEqualTo(result(0, 1, 1));
        assertThat(r.getOutcomes(1).getResult()).isEqualTo(result(2, 2, 0));
        assertThat(r.getOutcomes(2).getResult()).isEqualTo(r.getOutcomes(0).getResult());
        assertThat(r.getOutcomes(3).getError().getCode()).isEqualTo("INVALID_ARGUMENT");
        assertThat(fixture.store.headPosition()).isEqualTo(3);

        // a whole batch sent again (a client retrying after a lost answer) writes nothing and answers the same
        AppendBatchResult again = batch(first, other);
        assertThat(again.getOutcomes(0).getResult()).isEqualTo(result(0, 1, 1));
        assertThat(again.getOutcomes(1).getResult()).isEqualTo(result(2, 2, 0));
        assertThat(fixture.store.headPosition()).isEqualTo(3);
    }

    @ParameterizedTest
    @EnumSource(RawClient.Kind.class)
    void anOversizedBatchIsRefusedWithTooLargeAndTheConnectionGoesOn(RawClient.Kind kind) {
        start(kind, PROTOBUF, b -> b.maxFrameSize(1 << 20));
        try (RawClient fragmenting = RawClient.connect(fixture.server, kind, PROTOBUF, RawClient.COMPOSITE, null, 64 * 1024)) {
            AppendBatch.Builder huge = AppendBatch.newBuilder();
            for (int i = 0; i < 3; i++) {
                huge.addAppends(AppendRequest.newBuilder().setStream("s").addEvents(event("Big", "x").toBuilder()
                    .setData(ByteString.copyFrom(new byte[400 * 1024]))));
            }
            assertFails(fragmenting.call("append.batch", huge.build().toByteArray()), "TOO_LARGE");
            assertThat(fixture.rejected("TOO_LARGE")).isEqualTo(1);
            StoreInfo info = parse(StoreInfo.parser(), fragmenting.call("info", new byte[0]).block(TIMEOUT));
            assertThat(info.getHead()).isZero();
            AppendBatchResult fits = parse(AppendBatchResult.parser(), fragmenting.call("append.batch",
                AppendBatch.newBuilder().addAppends(huge.getAppends(0)).build().toByteArray()).block(TIMEOUT));
            assertThat(fits.getOutcomes(0).getResult().getLastPosition()).isZero();
        }
        assertThat(batch(append("t", Expectation.ANY, id())).getOutcomes(0).getResult().getFirstPosition()).isEqualTo(1);
    }

    @Test
    void aBatchWhoseAnswerCouldExceedTheFrameLimitIsRefusedBeforeAnythingIsWritten() {
        // 4,000 small appends fit a 1 MiB request; their outcomes (a sentence each when they fail) might not fit the answer
        start(RawClient.Kind.TCP, PROTOBUF, b -> b.maxFrameSize(1 << 20));
        AppendBatch.Builder many = AppendBatch.newBuilder();
        for (int i = 0; i < 4000; i++) {
            many.addAppends(append("s-" + i, Expectation.STREAM_EXISTS, id()));
        }
        assertThat(many.build().getSerializedSize()).isLessThan(1 << 20);
        assertFails(client.call("append.batch", many.build().toByteArray()), "TOO_LARGE");
        assertThat(fixture.store.headPosition()).isZero();
        assertThat(batch(append("t", Expectation.ANY, id())).getOutcomes(0).getResult().getFirstPosition()).isZero();
    }

    @ParameterizedTest
    @EnumSource(RawClient.Kind.class)
    void aMalformedBatchFailsAsAWholeAndAnEmptyOneAnswersNothing(RawClient.Kind kind) {
        start(kind, PROTOBUF, b -> { });
        assertFails(client.call("append.batch", new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01}), "INVALID_ARGUMENT");
        assertThat(batch().getOutcomesCount()).isZero();
        assertThat(batch(append("s", Expectation.ANY, id())).getOutcomes(0).hasResult()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(RawClient.Kind.class)
    void jsonClientsGetOutcomesInTheProtobufJsonMapping(RawClient.Kind kind) {
        start(kind, JSON, b -> { });
        String request = "{\"appends\": [{\"stream\": \"j\", \"expectation\": \"NO_STREAM\", \"events\": [{\"type\": \"A\", \"data\": \"e30=\"}]},"
            + " {\"stream\": \"j\", \"expectation\": \"NO_STREAM\", \"events\": [{\"type\": \"B\"}]}]}";
        byte[] answer = client.call("append.batch", request.getBytes(StandardCharsets.UTF_8)).block(TIMEOUT);
        JsonArray outcomes = JsonParser.parseString(new String(answer, StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonArray("outcomes");
        assertThat(outcomes).hasSize(2);
        assertThat(outcomes.get(0).getAsJsonObject().has("result")).isTrue();
        JsonObject error = outcomes.get(1).getAsJsonObject().getAsJsonObject("error");
        assertThat(error.get("code").getAsString()).isEqualTo("WRONG_EXPECTED_VERSION");
        assertThat(error.get("message").getAsString()).contains("'j'");
    }
}
