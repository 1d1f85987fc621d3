package io.reel.store.internal.log;

import io.reel.store.RecordedEvent;

/**
 * How the log makes a {@link RecordedEvent} over a record of a format-2 frame without a public constructor
 * for it: {@code RecordedEvent} hands its factory over when its class initialises. Every field lies in the
 * frame's bytes, except a well-known content type (a shared constant).
 */
public final class FrameRecords {
    /** Makes a located frame record. */
    @FunctionalInterface
    public interface Factory {
        RecordedEvent record(byte[] frame, long position, long revision, long timestampMicros, int streamOffset, int streamLength,
                             int idOffset, int typeOffset, int typeLength, byte[] contentTypeBuf, int contentTypeOffset,
                             int contentTypeLength, int dataOffset, int dataLength, int metadataOffset, int metadataLength,
                             boolean lastOfAppend, io.reel.store.EntryOrigin origin);
    }

    private static volatile Factory factory;

    private FrameRecords() {
    }

    /** Called once, by {@code RecordedEvent}'s static initialiser. */
    public static void install(Factory f) {
        if (factory != null) {
            throw new IllegalStateException("the frame record factory is installed already");
        }
        factory = f;
    }

    static Factory factory() {
        Factory f = factory;
        if (f == null) {
            try {
                Class.forName(RecordedEvent.class.getName(), true, RecordedEvent.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            f = factory;
        }
        return f;
    }
}
