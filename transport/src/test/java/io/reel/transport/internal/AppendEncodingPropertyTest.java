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
