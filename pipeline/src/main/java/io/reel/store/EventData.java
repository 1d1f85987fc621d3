package io.reel.store;

import com.google.protobuf.MessageLite;
import io.reel.store.internal.log.Utf8;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An event to append: a client-chosen id (generated when not given), a type, a content type, the data
 * and optional metadata. Immutable: the byte arrays are owned by the event once it is built, so do not
 * change them afterwards.
 *
 * <p>The event id makes retries safe: appending the same ids to the same stream again returns the
 * earlier result instead of writing duplicates (see {@link EventStore#append}).
 */
public final class EventData {
    public static final String OCTET_STREAM = "application/octet-stream";
    public static final String PROTOBUF = "application/x-protobuf";
    public static final String JSON = "application/json";

    private static final byte[] EMPTY = new byte[0];

    private final UUID eventId;
    private final String type;
    private final String contentType;
    private final byte[] data;
    private final byte[] metadata;
    private byte[] typeUtf8;
    private byte[] contentTypeUtf8;

    private EventData(UUID eventId, String type, String contentType, byte[] data, byte[] metadata) {
        this.eventId = Objects.requireNonNull(eventId, "eventId");
        this.type = Objects.requireNonNull(type, "type");
        this.contentType = Objects.requireNonNull(contentType, "contentType");
        this.data = Objects.requireNonNull(data, "data");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        if (type.isEmpty()) {
            throw ReelException.invalidArgument("event type is empty; every event needs a type such as 'TaskScheduled'");
        }
    }

    /** An event with a new random id, raw bytes as data and no metadata. */
    public static EventData of(String type, byte[] data) {
        return new EventData(newId(), type, OCTET_STREAM, data, EMPTY);
    }

    /** An event whose data is a protobuf message, with a new random id. */
    public static EventData of(String type, MessageLite message) {
        return new EventData(newId(), type, PROTOBUF, message.toByteArray(), EMPTY);
    }

    /** An event whose data is JSON text, with a new random id. */
    public static EventData json(String type, String json) {
        return new EventData(newId(), type, JSON, json.getBytes(StandardCharsets.UTF_8), EMPTY);
    }

    /**
     * Every field given: choose the event id yourself to make retries idempotent (null generates one).
     */
    public static EventData of(UUID eventId, String type, String contentType, byte[] data, byte[] metadata) {
        return new EventData(eventId == null ? newId() : eventId, type, contentType, data, metadata == null ? EMPTY : metadata);
    }

    /**
     * A new event id: a time-ordered UUIDv7 (RFC 9562: 48 bits of Unix milliseconds, then 74 random bits).
     * Ids need to be unique, not unpredictable, so the random bits come from {@link ThreadLocalRandom}
     * rather than {@code SecureRandom}, which would cost more than the rest of an append.
     */
    public static UUID newId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long millis = System.currentTimeMillis();
        long high = (millis << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);
        long low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(high, low);
    }

    /** This event with another id. */
    public EventData withEventId(UUID id) {
        return new EventData(id, type, contentType, data, metadata);
    }

    /** This event with metadata. */
    public EventData withMetadata(byte[] newMetadata) {
        return new EventData(eventId, type, contentType, data, newMetadata);
    }

    public UUID eventId() {
        return eventId;
    }

    public String type() {
        return type;
    }

    public String contentType() {
        return contentType;
    }

    /** The data; owned by the event, do not modify. */
    public byte[] data() {
        return data;
    }

    /** The metadata; owned by the event, do not modify. */
    public byte[] metadata() {
        return metadata;
    }

    /** The type as UTF-8, shared between events of the same type (a benign race may look it up twice). */
    public byte[] typeUtf8() {
        byte[] b = typeUtf8;
        if (b == null) {
            b = Utf8.of(type);
            typeUtf8 = b;
        }
        return b;
    }

    public byte[] contentTypeUtf8() {
        byte[] b = contentTypeUtf8;
        if (b == null) {
            b = Utf8.of(contentType);
            contentTypeUtf8 = b;
        }
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EventData e && e.eventId.equals(eventId) && e.type.equals(type)
            && e.contentType.equals(contentType) && Arrays.equals(e.data, data) && Arrays.equals(e.metadata, metadata);
    }

    @Override
    public int hashCode() {
        return eventId.hashCode();
    }

    @Override
    public String toString() {
        return "EventData{" + type + ", id=" + eventId + ", " + data.length + " bytes}";
    }
}
