package io.reel.store.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.reel.proto.EventRecord;
import io.reel.store.ErrorCode;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The hand-written EventRecord codec against protobuf-java's own encoding and parsing. */
class RecordCodecTest {
    record Fields(long position, String stream, long revision, UUID id, String type, String contentType, byte[] data, byte[] metadata,
                  long timestamp) {
    }

    @Provide
    Arbitrary<Fields> records() {
        Arbitrary<Long> longs = Arbitraries.oneOf(Arbitraries.longs().between(0, 300), Arbitraries.longs().greaterOrEqual(0),
            Arbitraries.just(Long.MAX_VALUE));
        Arbitrary<String> text = Arbitraries.strings().ofMaxLength(40);
        Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        Arbitrary<UUID> ids = Arbitraries.randomValue(r -> new UUID(r.nextLong(), r.nextLong()));
        Arbitrary<Long> timestamps = Arbitraries.longs().between(0, 4_000_000_000_000_000L);
        return Combinators.combine(longs, text, longs, ids, text, text, bytes, bytes)
            .as((p, s, r, id, t, ct, d, m) -> new Fields(p, s, r, id, t, ct, d, m, 0))
            .flatMap(f -> timestamps.map(ts -> new Fields(f.position, f.stream, f.revision, f.id, f.type, f.contentType, f.data, f.metadata, ts)));
    }

    private static byte[] encode(Fields f) {
        byte[] stream = f.stream.getBytes(StandardCharsets.UTF_8);
        byte[] type = f.type.getBytes(StandardCharsets.UTF_8);
        byte[] contentType = f.contentType.getBytes(StandardCharsets.UTF_8);
        int size = RecordCodec.bodySize(f.position, stream, f.revision, type, contentType, f.data.length, f.metadata.length, f.timestamp);
        byte[] out = new byte[size + 7];
        int end = RecordCodec.encode(out, 3, f.position, stream, f.revision, f.id, type, contentType, f.data, f.metadata, f.timestamp);
        assertThat(end - 3).isEqualTo(size);
        byte[] body = new byte[size];
        System.arraycopy(out, 3, body, 0, size);
        return body;
    }

    private static EventRecord proto(Fields f) {
        return EventRecord.newBuilder().setPosition(f.position).setStream(f.stream).setRevision(f.revision).setEventId(f.id.toString())
            .setType(f.type).setContentType(f.contentType).setData(ByteString.copyFrom(f.data))
            .setMetadata(ByteString.copyFrom(f.metadata)).setTimestampMicros(f.timestamp).build();
    }

    @Property(tries = 500)
    void encodesExactlyAsProtobufDoes(@ForAll("records") Fields f) {
        assertThat(encode(f)).isEqualTo(proto(f).toByteArray());
    }

    @Property(tries = 500)
    void decodesWhatProtobufWrites(@ForAll("records") Fields f) {
        RecordedEvent r = RecordedEvent.fromEncoded(proto(f).toByteArray());
        assertThat(r.position()).isEqualTo(f.position);
        assertThat(r.stream()).isEqualTo(f.stream);
        assertThat(r.revision()).isEqualTo(f.revision);
        assertThat(r.eventId()).isEqualTo(f.id);
        assertThat(r.type()).isEqualTo(f.type);
        assertThat(r.contentType()).isEqualTo(f.contentType);
        assertThat(r.data()).isEqualTo(f.data);
        assertThat(r.metadata()).isEqualTo(f.metadata);
        assertThat(r.timestampMicros()).isEqualTo(f.timestamp);
        assertThat(r.encoded().remaining()).isEqualTo(r.encodedLength());
    }

    @Property(tries = 200)
    void skipsFieldsItDoesNotKnow(@ForAll("records") Fields f) {
        byte[] withUnknown = proto(f).toBuilder()
            .setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
                .addField(42, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(7).addLengthDelimited(ByteString.copyFromUtf8("x")).build())
                .build())
            .build().toByteArray();
        RecordedEvent r = RecordedEvent.fromEncoded(withUnknown);
        assertThat(r.position()).isEqualTo(f.position);
        assertThat(r.stream()).isEqualTo(f.stream);
    }

    /**
     * A body cut at any byte either fails with {@code CORRUPTED} or, when the cut falls on a field boundary, decodes
     * as the shorter message protobuf-java itself reads from the same bytes: every field present is intact, every
     * field cut away is at its default. Never a record with a damaged field.
     */
    @Property(tries = 300)
    void truncatedBodiesNeverDecodeSilentlyWrong(@ForAll("records") Fields f, @ForAll("cut") int cutPercent) {
        byte[] body = proto(f).toByteArray();
        int cut = body.length * cutPercent / 100;
        byte[] truncated = java.util.Arrays.copyOf(body, cut);
        EventRecord shorter;
        try {
            shorter = EventRecord.parseFrom(truncated);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            shorter = null;
        }
        try {
            RecordedEvent r = RecordedEvent.fromEncoded(truncated);
            EventRecord decoded = EventRecord.newBuilder().setPosition(r.position()).setStream(r.stream()).setRevision(r.revision())
                .setType(r.type()).setContentType(r.contentType()).setData(ByteString.copyFrom(r.data()))
                .setMetadata(ByteString.copyFrom(r.metadata())).setTimestampMicros(r.timestampMicros()).build();
            assertThat(shorter).as("protobuf-java reads the cut body too (cut at %d of %d)", cut, body.length).isNotNull();
            assertThat(decoded).as("cut at %d of %d", cut, body.length).isEqualTo(shorter.toBuilder().clearEventId().build());
            if (!shorter.getEventId().isEmpty()) {
                assertThat(r.eventId()).isEqualTo(f.id);
            }
            EventRecord whole = proto(f);
            assertThat(decoded.getStream()).isIn(whole.getStream(), "");
            assertThat(decoded.getType()).isIn(whole.getType(), "");
            assertThat(decoded.getContentType()).isIn(whole.getContentType(), "");
            assertThat(decoded.getData()).isIn(whole.getData(), ByteString.EMPTY);
            assertThat(decoded.getMetadata()).isIn(whole.getMetadata(), ByteString.EMPTY);
            assertThat(decoded.getRevision()).isIn(whole.getRevision(), 0L);
            assertThat(decoded.getTimestampMicros()).isIn(whole.getTimestampMicros(), 0L);
        } catch (ReelException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTED);
        }
    }

    @Provide
    Arbitrary<Integer> cut() {
        return Arbitraries.integers().between(0, 99);
    }
}
