package io.reel.store;

import com.google.protobuf.InvalidProtocolBufferException;
import java.time.Duration;

/**
 * Streams and event types Reel writes for itself. Names starting with {@code $} are reserved: a stream's
 * metadata lives in the stream {@code $$<stream>} as events of type {@value #METADATA_TYPE} whose data is a
 * protobuf {@code reel.v1.StreamMetadata}; the latest one is in force. Deletes are metadata too, so every
 * piece of index state can be rebuilt from the log alone.
 */
final class SystemStreams {
    static final String METADATA_PREFIX = "$$";
    static final String METADATA_TYPE = "$metadata";

    private SystemStreams() {
    }

    static String metadataStreamOf(String stream) {
        return METADATA_PREFIX + stream;
    }

    static boolean isMetadataStream(String stream) {
        return stream.startsWith(METADATA_PREFIX);
    }

    static String streamOfMetadataStream(String metadataStream) {
        return metadataStream.substring(METADATA_PREFIX.length());
    }

    /**
     * The metadata event at {@code revision} of {@code $$<stream>}. Its id is derived from the two (a name-based
     * UUID), not random: the replicas of a cluster apply the same change and must write the same bytes.
     */
    static EventData metadataEvent(String stream, StreamMetadata metadata, long revision) {
        io.reel.proto.StreamMetadata message = toProto(stream, metadata);
        java.util.UUID id = java.util.UUID.nameUUIDFromBytes((metadataStreamOf(stream) + "@" + revision)
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return EventData.of(id, METADATA_TYPE, EventData.PROTOBUF, message.toByteArray(), null);
    }

    static io.reel.proto.StreamMetadata toProto(String stream, StreamMetadata metadata) {
        return io.reel.proto.StreamMetadata.newBuilder()
            .setStream(stream)
            .setMaxCount(metadata.maxCount())
            .setMaxAgeSeconds(metadata.maxAge() == null ? 0 : metadata.maxAge().toSeconds())
            .setTruncateBefore(metadata.truncateBefore())
            .setSoftDeleted(metadata.softDeleted())
            .setHardDeleted(metadata.hardDeleted())
            .build();
    }

    static StreamMetadata fromProto(io.reel.proto.StreamMetadata m) {
        return new StreamMetadata(m.getMaxCount(), m.getMaxAgeSeconds() == 0 ? null : Duration.ofSeconds(m.getMaxAgeSeconds()),
            m.getTruncateBefore(), m.getSoftDeleted(), m.getHardDeleted());
    }

    /** The metadata a {@code $metadata} record carries, or null when its data does not decode. */
    static StreamMetadata decode(RecordedEvent record) {
        try {
            return fromProto(io.reel.proto.StreamMetadata.parseFrom(record.dataBuffer()));
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }
}
