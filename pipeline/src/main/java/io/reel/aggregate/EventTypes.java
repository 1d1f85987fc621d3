package io.reel.aggregate;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The events of an aggregate: which protobuf message each stored event type is, and how older forms of an
 * event are read (upcasters). Immutable and thread-safe.
 *
 * <p>An event is written with its type name (by default the message's name, e.g. {@code TaskScheduled}) and
 * content type {@code application/x-protobuf}; a type registered with a version above 1 is written as
 * {@code application/x-protobuf;version=N}. Reading a stored event:
 * <ol>
 *   <li>an upcaster registered for its stored type and version wins: it turns the stored event into a current
 *       message (or null to skip the event);</li>
 *   <li>else a registered type is parsed with its current message's parser, whatever its version: protobuf
 *       reads fields added since as their defaults, so only incompatible changes need an upcaster;</li>
 *   <li>else the load fails with {@code NOT_FOUND}, naming the stream, revision and type.</li>
 * </ol>
 *
 * <pre>{@code
 * EventTypes types = EventTypes.builder()
 *     .add(TaskScheduled.getDefaultInstance())
 *     .add(TaskStarted.getDefaultInstance())
 *     .upcast("TaskCreated", 1, stored -> TaskScheduled.newBuilder()
 *         .setTitle(StringValue.parseFrom(stored.dataBuffer()).getValue()).build())
 *     .build();
 * }</pre>
 */
public final class EventTypes {
    private static final String VERSION_PARAMETER = ";version=";

    private final Map<String, Registered> byType;
    private final Map<Class<?>, Registered> byClass;
    private final Map<String, Upcaster> upcasters;
    private final boolean readsVersions;

    /** Turns a stored event of an older type or version into a current message. */
    @FunctionalInterface
    public interface Upcaster {
        /**
         * The current message for {@code stored}, or null to skip it. {@code stored.dataBuffer()} gives its data
         * without a copy; {@code TheOldMessage.parseFrom(stored.dataBuffer())} reads it.
         */
        Message upcast(RecordedEvent stored) throws InvalidProtocolBufferException;
    }

    private record Registered(String type, int version, String contentType, Parser<? extends Message> parser, String messageName) {
    }

    private EventTypes(Builder b) {
        this.byType = Map.copyOf(b.byType);
        this.byClass = Map.copyOf(b.byClass);
        this.upcasters = Map.copyOf(b.upcasters);
        this.readsVersions = b.readsVersions;
    }

    /** The types of these messages, each named after its message (version 1). */
    public static EventTypes of(Message... defaultInstances) {
        Builder b = builder();
        for (Message m : defaultInstances) {
            b.add(m);
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The type name {@code event} is written under. */
    public String typeOf(Message event) {
        return registered(event).type;
    }

    /** The event to append for {@code event}: its type, content type, protobuf bytes and a new (UUIDv7) id. */
    EventData encode(Message event) {
        Registered r = registered(event);
        return EventData.of(null, r.type, r.contentType, event.toByteArray(), null);
    }

    /**
     * The current message of a stored event, upcast when an upcaster applies; null when an upcaster skips it.
     *
     * @throws ReelException {@code NOT_FOUND} for an unknown type, {@code INVALID_ARGUMENT} for data that does not parse
     */
    public Message decode(RecordedEvent stored) {
        String type = stored.type();
        if (!upcasters.isEmpty()) {
            int version = readsVersions ? versionOf(stored.contentType()) : 1;
            Upcaster upcaster = upcasters.get(version == 1 ? type : type + '\0' + version);
            if (upcaster != null) {
                try {
                    return upcaster.upcast(stored);
                } catch (InvalidProtocolBufferException e) {
                    throw unparsable(stored, "its upcaster", e);
                }
            }
        }
        Registered r = byType.get(type);
        if (r == null) {
            throw new ReelException(ErrorCode.NOT_FOUND, "stream '" + stored.stream() + "' holds an event of type '" + type
                + "' at revision " + stored.revision() + " (position " + stored.position()
                + ") that the aggregate does not know; register its message or an upcaster in the aggregate's EventTypes");
        }
        try {
            return r.parser.parseFrom(stored.data());
        } catch (InvalidProtocolBufferException e) {
            throw unparsable(stored, r.messageName, e);
        }
    }

    private static ReelException unparsable(RecordedEvent stored, String what, Exception e) {
        return new ReelException(ErrorCode.INVALID_ARGUMENT, "the event at revision " + stored.revision() + " of stream '"
            + stored.stream() + "' (position " + stored.position() + ", type '" + stored.type() + "', content type '"
            + stored.contentType() + "') does not parse with " + what + ": " + e.getMessage()
            + "; register an upcaster for its type and version", e);
    }

    private Registered registered(Message event) {
        Registered r = byClass.get(event.getClass());
        if (r == null) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "event message " + event.getDescriptorForType().getFullName()
                + " is not registered; add it to the aggregate's EventTypes (EventTypes.builder().add(...))");
        }
        return r;
    }

    /** The {@code version} parameter of a content type, 1 when it has none. */
    static int versionOf(String contentType) {
        int at = contentType.toLowerCase(Locale.ROOT).indexOf("version=");
        if (at < 0) {
            return 1;
        }
        int end = at + "version=".length();
        int v = 0;
        while (end < contentType.length() && Character.isDigit(contentType.charAt(end)) && v < 100_000_000) {
            v = v * 10 + (contentType.charAt(end++) - '0');
        }
        return v;
    }

    /** Collects registrations; {@link #build()} checks they do not clash. */
    public static final class Builder {
        private final Map<String, Registered> byType = new HashMap<>();
        private final Map<Class<?>, Registered> byClass = new HashMap<>();
        private final Map<String, Upcaster> upcasters = new HashMap<>();
        private boolean readsVersions;

        private Builder() {
        }

        /** Registers a message under its own name, version 1. */
        public Builder add(Message defaultInstance) {
            return add(defaultInstance.getDescriptorForType().getName(), defaultInstance, 1);
        }

        /** Registers a message under {@code type}, version 1. */
        public Builder add(String type, Message defaultInstance) {
            return add(type, defaultInstance, 1);
        }

        /**
         * Registers a message under {@code type} at {@code version} (1 or more): it is written with content type
         * {@code application/x-protobuf;version=N} when N is above 1.
         */
        public Builder add(String type, Message defaultInstance, int version) {
            Objects.requireNonNull(defaultInstance, "defaultInstance");
            if (type == null || type.isEmpty()) {
                throw new IllegalArgumentException("an event type needs a name");
            }
            if (version < 1) {
                throw new IllegalArgumentException("event type '" + type + "' has version " + version + "; versions start at 1");
            }
            if (byType.containsKey(type)) {
                throw new IllegalArgumentException("event type '" + type + "' is registered twice");
            }
            if (byClass.containsKey(defaultInstance.getClass())) {
                throw new IllegalArgumentException("message " + defaultInstance.getDescriptorForType().getFullName()
                    + " is registered twice; one message class is one event type");
            }
            String contentType = version == 1 ? EventData.PROTOBUF : EventData.PROTOBUF + VERSION_PARAMETER + version;
            Registered r = new Registered(type, version, contentType, defaultInstance.getParserForType(),
                defaultInstance.getDescriptorForType().getFullName());
            byType.put(type, r);
            byClass.put(defaultInstance.getClass(), r);
            readsVersions |= version != 1;
            return this;
        }

        /** Reads stored events of {@code type} at version 1 (no version parameter) with {@code upcaster}. */
        public Builder upcast(String type, Upcaster upcaster) {
            return upcast(type, 1, upcaster);
        }

        /** Reads stored events of {@code type} at {@code version} with {@code upcaster}. */
        public Builder upcast(String type, int version, Upcaster upcaster) {
            Objects.requireNonNull(upcaster, "upcaster");
            if (type == null || type.isEmpty() || version < 1) {
                throw new IllegalArgumentException("an upcaster needs a type and a version of 1 or more");
            }
            String key = version == 1 ? type : type + '\0' + version;
            if (upcasters.putIfAbsent(key, upcaster) != null) {
                throw new IllegalArgumentException("two upcasters for type '" + type + "' version " + version);
            }
            readsVersions |= version != 1;
            return this;
        }

        public EventTypes build() {
            Registered current;
            for (String key : upcasters.keySet()) {
                int sep = key.indexOf('\0');
                String type = sep < 0 ? key : key.substring(0, sep);
                int version = sep < 0 ? 1 : Integer.parseInt(key.substring(sep + 1));
                current = byType.get(type);
                if (current != null && current.version == version) {
                    throw new IllegalArgumentException("type '" + type + "' version " + version
                        + " is both the current form and upcast; an upcaster is for older forms only");
                }
            }
            return new EventTypes(this);
        }
    }
}
