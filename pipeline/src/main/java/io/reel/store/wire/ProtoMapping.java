package io.reel.store.wire;

import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.store.StoreInfo;
import io.reel.store.StreamMetadata;
import java.time.Duration;

/**
 * The one mapping between Reel's protobuf messages ({@code reel.proto}) and the store's domain types, used by the
 * server's responder, the client and the {@code $metadata} system stream, so the stored and the sent form cannot drift.
 *
 * <p>Pure and thread-safe. Decoding does no validation beyond the types: callers that take untrusted input (the
 * server) check the fields first and answer {@code INVALID_ARGUMENT}. A {@code max_age_seconds} of 0 means no
 * maximum age ({@code null}).
 */
public final class ProtoMapping {
    private ProtoMapping() {
    }

    public static io.reel.proto.AppendResult toProto(AppendResult r) {
        return io.reel.proto.AppendResult.newBuilder().setFirstPosition(r.firstPosition()).setLastPosition(r.lastPosition())
            .setNextExpectedRevision(r.nextExpectedRevision()).build();
    }

    public static AppendResult fromProto(io.reel.proto.AppendResult r) {
        return new AppendResult(r.getFirstPosition(), r.getLastPosition(), r.getNextExpectedRevision());
    }

    public static io.reel.proto.StoreInfo toProto(StoreInfo info) {
        return io.reel.proto.StoreInfo.newBuilder().setHead(info.head()).setSegments(info.segments()).setBytes(info.bytes())
            .setVersion(info.version()).setDurability(info.durability()).build();
    }

    public static StoreInfo fromProto(io.reel.proto.StoreInfo i) {
        return new StoreInfo(i.getHead(), i.getSegments(), i.getBytes(), i.getVersion(), i.getDurability());
    }

    public static io.reel.proto.StreamMetadata toProto(String stream, StreamMetadata m) {
        return io.reel.proto.StreamMetadata.newBuilder().setStream(stream).setMaxCount(m.maxCount())
            .setMaxAgeSeconds(m.maxAge() == null ? 0 : m.maxAge().toSeconds()).setTruncateBefore(m.truncateBefore())
            .setSoftDeleted(m.softDeleted()).setHardDeleted(m.hardDeleted()).build();
    }

    public static StreamMetadata fromProto(io.reel.proto.StreamMetadata m) {
        return new StreamMetadata(m.getMaxCount(), m.getMaxAgeSeconds() == 0 ? null : Duration.ofSeconds(m.getMaxAgeSeconds()),
            m.getTruncateBefore(), m.getSoftDeleted(), m.getHardDeleted());
    }

    /** A failed append as an {@code append.batch} outcome: its code and its sentence, as the {@code append} route sends them. */
    public static io.reel.proto.Error toProto(ReelException e) {
        return io.reel.proto.Error.newBuilder().setCode(e.code().name()).setMessage(e.sentence()).build();
    }

    /** An {@code Error} a server sent, as the exception it stands for ({@code INTERNAL} when the code is not one of Reel's). */
    public static ReelException fromProto(io.reel.proto.Error error) {
        try {
            return new ReelException(ErrorCode.valueOf(error.getCode()), error.getMessage());
        } catch (IllegalArgumentException unknown) {
            return new ReelException(ErrorCode.INTERNAL, "the server answered '" + error.getCode() + ": " + error.getMessage()
                + "', which is not a Reel error");
        }
    }
}
