package io.reel.store.internal.log;

import io.reel.store.EntryOrigin;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.reel.proto.EventRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** Format-2 frames: what the writer encodes decodes to the same events, as the protobuf records the wire carries. */
class FrameCodecTest {
    /** One append as the writer frames it; {@code origin} null outside a cluster. */
    record Append(String stream, long firstPosition, long firstRevision, long timestamp, EntryOrigin origin, List<EventData> events) {
        Append(String stream, long firstPosition, long firstRevision, long timestamp, List<EventData> events) {
            this(stream, firstPosition, firstRevision, timestamp, null, events);
        }
    }

    @Provide
    Arbitrary<Append> appends() {
        Arbitrary<String> contentTypes = Arbitraries.oneOf(Arbitraries.of("", EventData.JSON, EventData.PROTOBUF, EventData.OCTET_STREAM),
            Arbitraries.strings().ofMaxLength(30));
        Arbitrary<EventData> events = Combinators.combine(
                Arbitraries.randomValue(r -> new UUID(r.nextLong(), r.nextLong())),
                Arbitraries.strings().ofMinLength(1).ofMaxLength(40),
                contentTypes,
                Arbitraries.bytes().array(byte[].class).ofMaxSize(300),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(40))
            .as(EventData::of);
        return Combinators.combine(
                Arbitraries.strings().ofMinLength(1).ofMaxLength(60),
                Arbitraries.oneOf(Arbitraries.longs().between(0, 1000), Arbitraries.longs().between(0, Long.MAX_VALUE / 4)),
                Arbitraries.oneOf(Arbitraries.longs().between(0, 1000), Arbitraries.longs().between(0, Long.MAX_VALUE / 4)),
                Arbitraries.longs().between(0, 4_000_000_000_000_000L),
                Combinators.combine(Arbitraries.longs().greaterOrEqual(0), Arbitraries.longs().greaterOrEqual(0),
                    Arbitraries.oneOf(Arbitraries.integers().between(0, 1023), Arbitraries.integers().greaterOrEqual(0)))
                    .as(EntryOrigin::new).injectNull(0.5),
                events.list().ofMinSize(1).ofMaxSize(200))
            .as(Append::new);
    }

    static byte[] encode(Append a) {
        byte[] stream = a.stream().getBytes(StandardCharsets.UTF_8);
        int size = FrameCodec.frameSize(stream, a.origin(), a.events());
        byte[] out = new byte[size + 5];
        int end = FrameCodec.encode(out, 5, a.firstPosition(), a.firstRevision(), a.timestamp(), stream, a.origin(), a.events());
        assertThat(end - 5).isEqualTo(size);
        byte[] frame = new byte[size];
        System.arraycopy(out, 5, frame, 0, size);
        return frame;
    }

    static FrameCodec.Decoded decode(byte[] frame) {
        int length = Bytes.getInt(frame, 0);
        assertThat(length).isEqualTo(frame.length - LogFormat.FRAME_HEADER_SIZE);
        assertThat(Bytes.getInt(frame, 4)).isEqualTo(Crc.of(frame, LogFormat.FRAME_HEADER_SIZE, length));
        return FrameCodec.decode(frame, LogFormat.FRAME_HEADER_SIZE, length);
    }

    @Property(tries = 300)
    void decodesEveryEventOfTheAppend(@ForAll("appends") Append a) throws Exception {
        byte[] frame = encode(a);
        FrameCodec.Decoded d = decode(frame);
        assertThat(d.count()).isEqualTo(a.events().size());
        assertThat(FrameCodec.firstPositionOf(frame, LogFormat.FRAME_HEADER_SIZE, frame.length - LogFormat.FRAME_HEADER_SIZE))
            .isEqualTo(a.firstPosition());
        for (int i = 0; i < d.count(); i++) {
            EventData e = a.events().get(i);
            RecordedEvent r = d.record(i);
            assertThat(r.position()).isEqualTo(a.firstPosition() + i);
            assertThat(d.position(i)).isEqualTo(a.firstPosition() + i);
            assertThat(r.revision()).isEqualTo(a.firstRevision() + i);
            assertThat(r.stream()).isEqualTo(a.stream());
            assertThat(r.eventId()).isEqualTo(e.eventId());
            assertThat(r.type()).isEqualTo(e.type());
            assertThat(r.contentType()).isEqualTo(e.contentType());
            assertThat(r.data()).isEqualTo(e.data());
            assertThat(r.metadata()).isEqualTo(e.metadata());
            assertThat(r.timestampMicros()).isEqualTo(a.timestamp());
            assertThat(r.origin()).isEqualTo(a.origin());
            assertThat(r.endsAppend()).isEqualTo(i == d.count() - 1);
            byte[] wire = new byte[r.encodedLength()];
            r.encoded().get(wire);
            assertThat(EventRecord.parseFrom(wire)).isEqualTo(EventRecord.newBuilder().setPosition(r.position()).setStream(a.stream())
                .setRevision(r.revision()).setEventId(e.eventId().toString()).setType(e.type()).setContentType(e.contentType())
                .setData(ByteString.copyFrom(e.data())).setMetadata(ByteString.copyFrom(e.metadata())).setTimestampMicros(a.timestamp())
                .build());
        }
    }

    @Property(tries = 200)
    void aFrameOfSomeRecordsKeepsTheirPositionsAndRevisions(@ForAll("appends") Append a, @ForAll long seed) {
        FrameCodec.Decoded d = decode(encode(a));
        Random random = new Random(seed);
        List<RecordedEvent> kept = new ArrayList<>();
        for (int i = 0; i < d.count(); i++) {
            if (random.nextInt(3) > 0) {
                kept.add(d.record(i));
            }
        }
        if (kept.isEmpty()) {
            kept.add(d.record(d.count() - 1));
        }
        FrameCodec.Decoded again = decode(FrameCodec.encodeRecords(kept));
        assertThat(again.count()).isEqualTo(kept.size());
        for (int i = 0; i < kept.size(); i++) {
            RecordedEvent before = kept.get(i);
            RecordedEvent after = again.record(i);
            assertThat(after.position()).isEqualTo(before.position());
            assertThat(after.revision()).isEqualTo(before.revision());
            assertThat(after.encoded()).isEqualTo(before.encoded());
            assertThat(after.origin()).isEqualTo(a.origin());
            assertThat(again.indexOf(before.position())).isEqualTo(i);
        }
        for (int i = 0; i < d.count(); i++) {
            long position = d.position(i);
            boolean isKept = kept.stream().anyMatch(r -> r.position() == position);
            assertThat(again.indexOf(position) >= 0).as("position %d kept", position).isEqualTo(isKept);
        }
        assertThat(again.indexOf(a.firstPosition() - 1)).isEqualTo(-1);
        assertThat(again.indexOf(a.firstPosition() + d.count())).isEqualTo(-1);
    }

    @Property(tries = 300)
    void anyDamagedByteIsCaughtByTheChecksumOrFailsToDecodeWithACode(@ForAll("appends") Append a, @ForAll long seed) {
        byte[] frame = encode(a);
        Random random = new Random(seed);
        int at = LogFormat.FRAME_HEADER_SIZE + random.nextInt(frame.length - LogFormat.FRAME_HEADER_SIZE);
        frame[at] ^= (byte) (1 + random.nextInt(255));
        int length = frame.length - LogFormat.FRAME_HEADER_SIZE;
        assertThat(Crc.of(frame, LogFormat.FRAME_HEADER_SIZE, length)).isNotEqualTo(Bytes.getInt(frame, 4));
        try {
            FrameCodec.decode(frame, LogFormat.FRAME_HEADER_SIZE, length);
        } catch (ReelException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTED);
        }
    }

    @Property(tries = 200)
    void anLz4FrameDecodesToTheSameRecordsAsAPlainOne(@ForAll("appends") Append a, @ForAll boolean repetitive) {
        List<EventData> events = new ArrayList<>();
        for (EventData e : a.events()) {
            events.add(repetitive ? EventData.of(e.eventId(), e.type(), e.contentType(), ("{\"field\": \"value\", \"n\": 1}").repeat(4)
                .getBytes(StandardCharsets.UTF_8), e.metadata()) : e);
        }
        Append same = new Append(a.stream(), a.firstPosition(), a.firstRevision(), a.timestamp(), a.origin(), events);
        byte[] stream = same.stream().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[FrameCompression.frameBound(stream, same.origin(), events) + 3];
        int end = new FrameCompression().encode(out, 3, same.firstPosition(), same.firstRevision(), same.timestamp(), stream,
            same.origin(), events);
        byte[] frame = java.util.Arrays.copyOfRange(out, 3, end);
        byte[] plain = encode(same);
        assertThat(frame.length).isLessThanOrEqualTo(plain.length);
        if (repetitive && events.size() > 1) {
            assertThat(frame.length).as("repetitive records shrink").isLessThan(plain.length);
            assertThat(frame[LogFormat.FRAME_HEADER_SIZE] & FrameCodec.ATTR_COMPRESSION_MASK).isEqualTo(FrameCodec.COMPRESSION_LZ4);
        }
        FrameCodec.Decoded compressed = decode(frame);
        FrameCodec.Decoded expected = decode(plain);
        assertThat(compressed.count()).isEqualTo(expected.count());
        assertThat(FrameCodec.firstPositionOf(frame, LogFormat.FRAME_HEADER_SIZE, frame.length - LogFormat.FRAME_HEADER_SIZE))
            .isEqualTo(same.firstPosition());
        for (int i = 0; i < expected.count(); i++) {
            assertThat(compressed.record(i).encoded()).isEqualTo(expected.record(i).encoded());
            assertThat(compressed.record(i).origin()).isEqualTo(same.origin());
        }
        Random random = new Random(end);
        frame[LogFormat.FRAME_HEADER_SIZE + random.nextInt(frame.length - LogFormat.FRAME_HEADER_SIZE)] ^= (byte) (1 + random.nextInt(255));
        try {
            FrameCodec.decode(frame, LogFormat.FRAME_HEADER_SIZE, frame.length - LogFormat.FRAME_HEADER_SIZE);
        } catch (ReelException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTED);
        }
    }

    @Property(tries = 100)
    void aHundredByteEventCostsWellUnderTheTarget(@ForAll @IntRange(min = 100, max = 1000) int count,
                                                  @ForAll @LongRange(min = 0, max = 1L << 40) long firstPosition) {
        List<EventData> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            events.add(EventData.of("BenchEvent", new byte[100]));
        }
        int size = FrameCodec.frameSize("bench-0".getBytes(StandardCharsets.UTF_8), null, events);
        assertThat((double) size / count).isLessThanOrEqualTo(140.0);
    }

    @Property(tries = 50)
    void recordsOfDifferentAppendsDoNotShareAFrame(@ForAll("appends") Append a) {
        FrameCodec.Decoded d = decode(encode(a));
        List<RecordedEvent> mixed = new ArrayList<>();
        mixed.add(d.record(0));
        mixed.add(FrameCodec.decode(encode(new Append(a.stream() + "x", a.firstPosition() + 1000, 0, 0, a.events())),
            LogFormat.FRAME_HEADER_SIZE, FrameCodec.frameSize((a.stream() + "x").getBytes(StandardCharsets.UTF_8), null, a.events())
                - LogFormat.FRAME_HEADER_SIZE).record(0));
        assertThatThrownBy(() -> FrameCodec.encodeRecords(mixed)).isInstanceOf(IllegalArgumentException.class);
    }
}
