package io.reel.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.reel.proto.AppendRequest;
import io.reel.proto.EventData;
import io.reel.proto.EventRecord;
import io.reel.proto.Expectation;
import io.reel.store.RecordedEvent;
import io.reel.store.SubscriptionMessage;
import io.reel.transport.WireFormat;
import io.rsocket.Payload;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * {@link MessageCodec} in both wire formats: every request message, record, batch, subscription item and group
 * delivery it encodes decodes to what went in.
 */
class MessageCodecPropertyTest {
    @Property(tries = 200)
    void messagesRoundTrip(@ForAll WireFormat format, @ForAll("appends") AppendRequest request) {
        byte[] bytes = MessageCodec.encode(format, request);
        ByteBuf data = io.netty.buffer.Unpooled.wrappedBuffer(bytes);
        assertThat(MessageCodec.decode(format, data, AppendRequest.getDefaultInstance(), "append")).isEqualTo(request);
        ByteBuf direct = MessageCodec.encodeDirect(format, request);
        try {
            assertThat(direct.isDirect()).isTrue();
            assertThat(io.netty.buffer.ByteBufUtil.getBytes(direct)).isEqualTo(bytes);
            assertThat(MessageCodec.decode(format, direct, AppendRequest.getDefaultInstance(), "append")).isEqualTo(request);
        } finally {
            direct.release();
        }
    }

    @Property(tries = 200)
    void recordsAndBatchesRoundTrip(@ForAll WireFormat format, @ForAll @Size(max = 6) List<@net.jqwik.api.From("records") EventRecord> records) {
        List<RecordedEvent> events = records.stream().map(r -> RecordedEvent.fromEncoded(r.toByteArray())).toList();
        assertThat(decoded(MessageCodec.batch(format, events, false), data -> MessageCodec.records(format, data, true)))
            .isEqualTo(records);
        for (RecordedEvent e : events) {
            assertThat(decoded(MessageCodec.record(format, e), data -> MessageCodec.records(format, data, false)))
                .containsExactly(proto(e));
        }
        List<SubscriptionMessage> batchItem = itemsOf(MessageCodec.batch(format, events, true), format);
        assertThat(batchItem).allMatch(m -> m instanceof SubscriptionMessage.Event);
        assertThat(batchItem.stream().map(m -> proto(((SubscriptionMessage.Event) m).event())).toList()).isEqualTo(records);
    }

    @Property(tries = 200)
    void subscriptionItemsRoundTrip(@ForAll WireFormat format, @ForAll("records") EventRecord record,
                                    @ForAll @IntRange(min = 0) int next) {
        SubscriptionMessage.Event event = new SubscriptionMessage.Event(RecordedEvent.fromEncoded(record.toByteArray()));
        List<SubscriptionMessage> events = itemsOf(MessageCodec.item(format, event), format);
        assertThat(events).hasSize(1);
        assertThat(proto(((SubscriptionMessage.Event) events.get(0)).event())).isEqualTo(record);
        assertThat(itemsOf(MessageCodec.item(format, new SubscriptionMessage.CaughtUp(next)), format))
            .containsExactly(new SubscriptionMessage.CaughtUp(next));
        assertThat(itemsOf(MessageCodec.item(format, new SubscriptionMessage.Checkpoint(next)), format))
            .containsExactly(new SubscriptionMessage.Checkpoint(next));
    }

    @Property(tries = 200)
    void groupDeliveriesRoundTrip(@ForAll WireFormat format, @ForAll("records") EventRecord record, @ForAll @IntRange(min = 0) int retries) {
        Payload payload = MessageCodec.delivery(format, RecordedEvent.fromEncoded(record.toByteArray()), retries);
        try {
            MessageCodec.ReceivedDelivery back = MessageCodec.delivery(format, payload.sliceData());
            assertThat(proto(back.record())).isEqualTo(record);
            assertThat(back.retryCount()).isEqualTo(retries);
        } finally {
            payload.release();
        }
    }

    private static List<SubscriptionMessage> itemsOf(Payload payload, WireFormat format) {
        try {
            return MessageCodec.items(format, payload.sliceData());
        } finally {
            payload.release();
        }
    }

    private static List<EventRecord> decoded(Payload payload, Function<ByteBuf, List<RecordedEvent>> decode) {
        try {
            List<EventRecord> out = new ArrayList<>();
            for (RecordedEvent e : decode.apply(payload.sliceData())) {
                out.add(proto(e));
            }
            return out;
        } finally {
            payload.release();
        }
    }

    private static EventRecord proto(RecordedEvent e) {
        try {
            return EventRecord.parseFrom(e.encoded());
        } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
            throw new AssertionError(ex);
        }
    }

    private static Arbitrary<String> text() {
        return Arbitraries.strings().withCharRange(' ', '\uD7FF').ofMaxLength(16);
    }

    private static Arbitrary<UUID> uuids() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.longs()).as(UUID::new);
    }

    private static Arbitrary<ByteString> bytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(32).map(ByteString::copyFrom);
    }

    @Provide
    Arbitrary<EventRecord> records() {
        return Combinators.combine(Arbitraries.longs().between(0, Long.MAX_VALUE), text(), Arbitraries.longs().between(0, Long.MAX_VALUE),
            uuids(), text(), text(), bytes(), bytes())
            .as((position, stream, revision, id, type, contentType, data, metadata) -> EventRecord.newBuilder().setPosition(position)
                .setStream(stream).setRevision(revision).setEventId(id.toString()).setType(type).setContentType(contentType).setData(data)
                .setMetadata(metadata).setTimestampMicros(position / 3).build());
    }

    @Provide
    Arbitrary<AppendRequest> appends() {
        Arbitrary<EventData> events = Combinators.combine(uuids(), text(), text(), bytes(), bytes())
            .as((id, type, contentType, data, metadata) -> EventData.newBuilder().setEventId(id.toString()).setType(type)
                .setContentType(contentType).setData(data).setMetadata(metadata).build());
        return Combinators.combine(text(), Arbitraries.integers().between(-3, 1000), events.list().ofMaxSize(4))
            .as((stream, expected, list) -> {
                AppendRequest.Builder b = AppendRequest.newBuilder().setStream(stream).addAllEvents(list);
                if (expected >= 0) {
                    b.setRevision(expected);
                } else {
                    b.setExpectation(Expectation.forNumber(-expected - 1));
                }
                return b.build();
            });
    }
}
