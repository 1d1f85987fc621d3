package io.reel.store.internal.log;

import com.google.protobuf.InvalidProtocolBufferException;
import io.reel.store.EventData;
import io.reel.store.RecordedEvent;
import io.reel.store.StreamMetadata;
import io.reel.store.wire.ProtoMapping;

/**
 * Streams and event types Reel writes for itself. Names starting with {@code $} are reserved: a stream's
 * metadata lives in the stream {@code $$<stream>} as events of type {@value #METADATA_TYPE} whose data is a
 * protobuf {@code reel.v1.StreamMetadata}; the latest one is in force. Deletes are metadata too, so every
 * piece of index state can be rebuilt from the log alone.
 */
public final class SystemStreams {
    public static final String METADATA_PREFIX = "$$";
    public static final String METADATA_TYPE = "$metadata";

    private SystemStreams() {
    }

    public static String metadataStreamOf(String stream) {
        return METADATA_PREFIX + stream;
    }

    public static boolean isMetadataStream(String stream) {
        return stream.startsWith(METADATA_PREFIX);
    }

    public static String streamOfMetadataStream(String metadataStream) {
        return metadataStream.substring(METADATA_PREFIX.length());
    }

    /**
     * The metadata event at {@code revision} of {@code $$<stream>}. Its id is derived from the two (a name-based
     * UUID), not random: the replicas of a cluster apply the same change and must write the same bytes.
     */
    public static EventData metadataEvent(String stream, StreamMetadata metadata, long revision) {
        io.reel.proto.StreamMetadata message = ProtoMapping.toProto(stream, metadata);
        java.util.UUID id = java.util.UUID.nameUUIDFromBytes((metadataStreamOf(stream) + "@" + revision)
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return EventData.of(id, METADATA_TYPE, EventData.PROTOBUF, message.toByteArray(), null);
    }

    /** The metadata a {@code $metadata} record carries, or null when its data does not decode. */
    public static StreamMetadata decode(RecordedEvent record) {
        try {
            return ProtoMapping.fromProto(io.reel.proto.StreamMetadata.parseFrom(record.dataBuffer()));
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }
}
