package io.reel.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.reel.proto.AppendBatch;
import io.reel.proto.AppendRequest;
import io.reel.proto.Expectation;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * {@link AppendEncoding} writes exactly the bytes of the generated {@code AppendRequest} and {@code AppendBatch}
 * (so any protobuf reader, ours included, reads the same message), for any stream name, expectation and events.
 */
class AppendEncodingPropertyTest {
    @Property(tries = 300)
    void anAppendEncodesAsTheGeneratedMessageDoes(@ForAll("streams") String stream, @ForAll("expectations") ExpectedRevision expected,
                                                  @ForAll @Size(max = 5) List<@net.jqwik.api.From("events") EventData> events) {
        assertThat(AppendEncoding.request(stream, expected, events)).isEqualTo(generated(stream, expected, events).toByteArray());
    }

    @Property(tries = 100)
    void aBatchEncodesAsTheGeneratedMessageDoes(@ForAll @Size(max = 6) List<@net.jqwik.api.From("streams") String> streams,
                                                @ForAll("events") EventData event) {
        List<byte[]> encoded = new ArrayList<>();
        AppendBatch.Builder batch = AppendBatch.newBuilder();
        for (String s : streams) {
            encoded.add(AppendEncoding.request(s, ExpectedRevision.ANY, List.of(event)));
            batch.addAppends(generated(s, ExpectedRevision.ANY, List.of(event)));
        }
        ByteBuf buf = AppendEncoding.batch(encoded);
        try {
            assertThat(ByteBufUtil.getBytes(buf)).isEqualTo(batch.build().toByteArray());
        } finally {
            buf.release();
        }
    }

    @net.jqwik.api.Example
    void aHostileBatchIsBoundedWhileItIsDecoded() throws Exception {
        io.reel.proto.EventData empty = io.reel.proto.EventData.getDefaultInstance();
        io.reel.proto.EventData good = io.reel.proto.EventData.newBuilder().setType("T").build();
        AppendBatch batch = AppendBatch.newBuilder()
            .addAppends(AppendRequest.newBuilder().setStream("many").addAllEvents(java.util.Collections.nCopies(20, good)))
            // its first event has no type: the others are checked, not built
            .addAppends(AppendRequest.newBuilder().setStream("bad").addEvents(empty).addAllEvents(java.util.Collections.nCopies(4, good)))
            .addAppends(AppendRequest.newBuilder().setStream("fine").addEvents(good))
            .build();
        List<Object> appends = AppendEncoding.decodeBatch(io.netty.buffer.Unpooled.wrappedBuffer(batch.toByteArray()), 3, 5);
        assertThat(appends).hasSize(3);
        assertThat(appends.get(0)).isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.getMessage())
            .isEqualTo("TOO_LARGE: the append to stream 'many' has 20 events; the limit is 5 per append (maxEventsPerAppend); split it"));
        assertThat(appends.get(1)).isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.getMessage())
            .startsWith("INVALID_ARGUMENT: events[0].type is empty"));
        assertThat(appends.get(2)).isInstanceOf(AppendEncoding.Append.class);
        // one append more than the answer can hold fails the batch before anything else is decoded
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AppendEncoding.decodeBatch(io.netty.buffer.Unpooled.wrappedBuffer(
                batch.toBuilder().addAppends(batch.getAppends(2)).build().toByteArray()), 3, 5))
            .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(io.reel.store.ErrorCode.TOO_LARGE));
    }

    @Property(tries = 300)
    void aBatchDecodesAsTheGeneratedParserAndTheAppendRouteRead(@ForAll @Size(max = 4) List<@net.jqwik.api.From("wireAppends") AppendRequest> appends)
        throws Exception {
        AppendBatch batch = AppendBatch.newBuilder().addAllAppends(appends).build();
        List<Object> lean = AppendEncoding.decodeBatch(io.netty.buffer.Unpooled.wrappedBuffer(batch.toByteArray()), Integer.MAX_VALUE, Integer.MAX_VALUE);
        List<Object> generated = BatchAppends.appendsOf(AppendBatch.parseFrom(batch.toByteArray()), Integer.MAX_VALUE, Integer.MAX_VALUE);
        assertThat(lean).hasSameSizeAs(generated);
        for (int i = 0; i < lean.size(); i++) {
            if (generated.get(i) instanceof ReelException expected) {
                assertThat(lean.get(i)).isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.getMessage()).isEqualTo(expected.getMessage()));
            } else {
                assertThat(lean.get(i)).isEqualTo(generated.get(i));
            }
        }
    }

    @net.jqwik.api.Example
    void aStringThatIsNotUtf8IsRefusedAsTheGeneratedParserRefusesIt() throws Exception {
        byte[] invalid = {'T', (byte) 0xC3, '('};
        for (int field : new int[] {io.reel.proto.EventData.TYPE_FIELD_NUMBER, io.reel.proto.EventData.CONTENT_TYPE_FIELD_NUMBER}) {
            java.io.ByteArrayOutputStream event = new java.io.ByteArrayOutputStream();
            com.google.protobuf.CodedOutputStream e = com.google.protobuf.CodedOutputStream.newInstance(event);
            e.writeByteArray(field, invalid);
            e.flush();
            java.io.ByteArrayOutputStream append = new java.io.ByteArrayOutputStream();
            com.google.protobuf.CodedOutputStream a = com.google.protobuf.CodedOutputStream.newInstance(append);
            a.writeString(AppendRequest.STREAM_FIELD_NUMBER, "s");
            a.writeByteArray(AppendRequest.EVENTS_FIELD_NUMBER, event.toByteArray());
            a.flush();
            java.io.ByteArrayOutputStream whole = new java.io.ByteArrayOutputStream();
            com.google.protobuf.CodedOutputStream w = com.google.protobuf.CodedOutputStream.newInstance(whole);
            w.writeByteArray(io.reel.proto.AppendBatch.APPENDS_FIELD_NUMBER, append.toByteArray());
            w.flush();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> AppendBatch.parseFrom(whole.toByteArray()))
                .isInstanceOf(com.google.protobuf.InvalidProtocolBufferException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> AppendEncoding.decodeBatch(io.netty.buffer.Unpooled.wrappedBuffer(whole.toByteArray()), Integer.MAX_VALUE, Integer.MAX_VALUE))
                .isInstanceOf(com.google.protobuf.InvalidProtocolBufferException.class).hasMessage("Protocol message had invalid UTF-8.");
        }
    }

    @Property(tries = 100)
    void bytesThatAreNoAppendBatchAreRefusedAsTheGeneratedParserRefusesThem(@ForAll byte[] garbage) {
        boolean generatedRefuses;
        try {
            BatchAppends.appendsOf(AppendBatch.parseFrom(garbage), Integer.MAX_VALUE, Integer.MAX_VALUE);
            generatedRefuses = false;
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            generatedRefuses = true;
        } catch (ReelException e) {
            generatedRefuses = false;
        }
        boolean leanRefuses;
        try {
            AppendEncoding.decodeBatch(io.netty.buffer.Unpooled.wrappedBuffer(garbage), Integer.MAX_VALUE, Integer.MAX_VALUE);
            leanRefuses = false;
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            leanRefuses = true;
        }
        assertThat(leanRefuses).isEqualTo(generatedRefuses);
    }

    @Property(tries = 200)
    void outcomesEncodeAsTheGeneratedMessageAndDecodeBack(@ForAll @Size(max = 6) List<@net.jqwik.api.From("outcomes") Object> list)
        throws Exception {
        Object[] outcomes = list.toArray();
        ByteBuf buf = AppendEncoding.encodeOutcomes(outcomes, BatchAppends::error);
        try {
            assertThat(ByteBufUtil.getBytes(buf)).isEqualTo(BatchAppends.message(outcomes).toByteArray());
            Object[] back = AppendEncoding.decodeOutcomes(buf);
            assertThat(back).hasSameSizeAs(outcomes);
            for (int i = 0; i < back.length; i++) {
                if (outcomes[i] instanceof ReelException e) {
                    assertThat(back[i]).isInstanceOfSatisfying(ReelException.class, r -> assertThat(r.getMessage()).isEqualTo(e.getMessage()));
                } else {
                    assertThat(back[i]).isEqualTo(outcomes[i]);
                }
            }
        } finally {
            buf.release();
        }
    }

    @Provide
    Arbitrary<AppendRequest> wireAppends() {
        Arbitrary<String> ids = Arbitraries.oneOf(Combinators.combine(Arbitraries.longs(), Arbitraries.longs()).as((a, b) -> new UUID(a, b).toString()),
            Combinators.combine(Arbitraries.longs(), Arbitraries.longs()).as((a, b) -> new UUID(a, b).toString().toUpperCase()),
            Arbitraries.of("1-2-3-4-5", "not-a-uuid", "0123456789abcdef0123456789abcdef0123", "g0000000-0000-0000-0000-000000000000"));
        Arbitrary<String> contentTypes = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(12),
            Arbitraries.of(io.reel.store.EventData.JSON, io.reel.store.EventData.PROTOBUF, io.reel.store.EventData.OCTET_STREAM, "application/jso"));
        Arbitrary<io.reel.proto.EventData> events = Combinators.combine(ids, Arbitraries.strings().ofMaxLength(12),
                contentTypes, Arbitraries.bytes().array(byte[].class).ofMaxSize(20))
            .as((id, type, contentType, data) -> io.reel.proto.EventData.newBuilder().setEventId(id).setType(type).setContentType(contentType)
                .setData(ByteString.copyFrom(data)).setMetadata(ByteString.copyFrom(data)).build());
        Arbitrary<AppendRequest.Builder> heads = Arbitraries.oneOf(
            Arbitraries.longs().map(r -> AppendRequest.newBuilder().setRevision(r)),
            Arbitraries.integers().between(0, 4).map(n -> AppendRequest.newBuilder().setExpectationValue(n)),
            Arbitraries.just(0).map(n -> AppendRequest.newBuilder()));
        return Combinators.combine(heads, Arbitraries.strings().ofMaxLength(20), events.list().ofMaxSize(3))
            .as((b, stream, list) -> b.setStream(stream).addAllEvents(list).build());
    }

    @Provide
    Arbitrary<Object> outcomes() {
        Arbitrary<Long> positions = Arbitraries.oneOf(Arbitraries.just(0L), Arbitraries.longs().between(0, Long.MAX_VALUE));
        return Arbitraries.oneOf(Combinators.combine(positions, positions, positions).as(io.reel.store.AppendResult::new),
            Combinators.combine(Arbitraries.of(io.reel.store.ErrorCode.class), Arbitraries.strings().ofMaxLength(60)).as(ReelException::new));
    }

    private static AppendRequest generated(String stream, ExpectedRevision expected, List<EventData> events) {
        AppendRequest.Builder b = AppendRequest.newBuilder().setStream(stream);
        if (expected.isExact()) {
            b.setRevision(expected.revision());
        } else {
            b.setExpectation(expected.equals(ExpectedRevision.NO_STREAM) ? Expectation.NO_STREAM
                : expected.equals(ExpectedRevision.STREAM_EXISTS) ? Expectation.STREAM_EXISTS : Expectation.ANY);
        }
        for (EventData e : events) {
            b.addEvents(io.reel.proto.EventData.newBuilder().setEventId(e.eventId().toString()).setType(e.type())
                .setContentType(e.contentType()).setData(ByteString.copyFrom(e.data())).setMetadata(ByteString.copyFrom(e.metadata())));
        }
        return b.build();
    }

    @Provide
    Arbitrary<String> streams() {
        return Arbitraries.strings().ofMinLength(1).ofMaxLength(300);
    }

    @Provide
    Arbitrary<ExpectedRevision> expectations() {
        return Arbitraries.oneOf(Arbitraries.of(ExpectedRevision.ANY, ExpectedRevision.NO_STREAM, ExpectedRevision.STREAM_EXISTS),
            Arbitraries.longs().between(0, Long.MAX_VALUE).map(ExpectedRevision::exactly));
    }

    @Provide
    Arbitrary<EventData> events() {
        Arbitrary<UUID> ids = Combinators.combine(Arbitraries.longs(), Arbitraries.longs()).as(UUID::new);
        Arbitrary<String> texts = Arbitraries.strings().ofMinLength(1).ofMaxLength(40);
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        return Combinators.combine(ids, texts, texts, bytes, bytes).as(EventData::of);
    }
}
