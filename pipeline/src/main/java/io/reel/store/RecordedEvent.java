package io.reel.store;

import io.reel.store.internal.log.Bytes;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.RecordCodec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/**
 * An event as stored in the log: where it is ({@link #position()} in {@code $all}, {@link #revision()} in its
 * stream), what it is, and when it was committed.
 *
 * <p>A view over the stored protobuf {@code EventRecord} bytes: fields are located once and decoded on first
 * use, so a reader that looks only at positions or types does not pay for the rest. {@link #encoded()} gives
 * the stored bytes themselves, which are also the wire message. Immutable and safe to share between threads.
 */
public final class RecordedEvent {
    private final byte[] buf;
    private final int offset;
    private final int length;

    private long position;
    private long revision;
    private long timestampMicros;
    private int streamOffset;
    private int streamLength;
    private int idOffset;
    private int idLength;
    private int typeOffset;
    private int typeLength;
    private int contentTypeOffset;
    private int contentTypeLength;
    private int dataOffset;
    private int dataLength;
    private int metadataOffset;
    private int metadataLength;

    private String stream;
    private String type;
    /**
     * Set (last, with release semantics) once the fields are located, and read with acquire semantics: a record
     * shared between threads is never seen half-located. Release/acquire rather than volatile: on x86 that is a
     * plain store, where a volatile store is a full fence on every record's first field access.
     */
    private boolean located;
    private static final java.lang.invoke.VarHandle LOCATED;

    static {
        try {
            LOCATED = java.lang.invoke.MethodHandles.lookup().findVarHandle(RecordedEvent.class, "located", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * A view over {@code length} bytes of an encoded {@code EventRecord} at {@code offset} of {@code buf}, as Reel
     * writes it (position first). Only the position is decoded now; the other fields on first use.
     */
    public RecordedEvent(byte[] buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.length = length;
        this.position = leadingPosition(buf, offset, length);
    }

    /** Decodes a record from any protobuf encoding of {@code EventRecord} (a copy is taken). */
    public static RecordedEvent fromEncoded(byte[] encoded) {
        return fromEncoded(encoded.clone(), 0, encoded.length);
    }

    /**
     * A record over {@code length} bytes of an encoded {@code EventRecord} at {@code offset} of {@code buf},
     * without a copy: the bytes must not change afterwards (a client decoding a received batch shares one
     * array among its records). Decoded lazily when the position leads, as Reel writes records; any other
     * field order is decoded at once.
     */
    public static RecordedEvent fromEncoded(byte[] buf, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, buf.length);
        RecordedEvent r = new RecordedEvent(buf, offset, length);
        if (length > 0 && buf[offset] != 0x08) {
            r.locate();
        }
        return r;
    }

    /** The position when it is the first field, as Reel's encoder writes it; 0 when it is absent (position 0). */
    private static long leadingPosition(byte[] buf, int offset, int length) {
        if (length == 0 || buf[offset] != 0x08) {
            return 0;
        }
        long v = 0;
        int shift = 0;
        int p = offset + 1;
        int end = offset + length;
        byte b;
        do {
            if (p >= end || shift > 63) {
                throw malformed("truncated position");
            }
            b = buf[p++];
            v |= (long) (b & 0x7F) << shift;
            shift += 7;
        } while (b < 0);
        return v;
    }

    private void locate() {
        if (!(boolean) LOCATED.getAcquire(this)) {
            locateFields();
            LOCATED.setRelease(this, true);
        }
    }

    private void locateFields() {
        int p = offset;
        int end = offset + length;
        while (p < end) {
            int tag = buf[p++] & 0xFF;
            if (tag >= 0x80) {
                int shift = 7;
                tag &= 0x7F;
                byte b;
                do {
                    if (p >= end || shift > 28) {
                        throw malformed("truncated tag");
                    }
                    b = buf[p++];
                    tag |= (b & 0x7F) << shift;
                    shift += 7;
                } while (b < 0);
            }
            int wireType = tag & 7;
            int field = tag >>> 3;
            if (wireType == 0) {
                long v = 0;
                int shift = 0;
                byte b;
                do {
                    if (p >= end || shift > 63) {
                        throw malformed("truncated varint");
                    }
                    b = buf[p++];
                    v |= (long) (b & 0x7F) << shift;
                    shift += 7;
                } while (b < 0);
                switch (field) {
                    case 1 -> position = v;
                    case 3 -> revision = v;
                    case 9 -> timestampMicros = v;
                    default -> { }
                }
            } else if (wireType == 2) {
                int len = 0;
                int shift = 0;
                byte b;
                do {
                    if (p >= end || shift > 28) {
                        throw malformed("truncated length");
                    }
                    b = buf[p++];
                    len |= (b & 0x7F) << shift;
                    shift += 7;
                } while (b < 0);
                if (len < 0 || len > end - p) {
                    throw malformed("length past the end");
                }
                switch (field) {
                    case 2 -> { streamOffset = p; streamLength = len; }
                    case 4 -> { idOffset = p; idLength = len; }
                    case 5 -> { typeOffset = p; typeLength = len; }
                    case 6 -> { contentTypeOffset = p; contentTypeLength = len; }
                    case 7 -> { dataOffset = p; dataLength = len; }
                    case 8 -> { metadataOffset = p; metadataLength = len; }
                    default -> { }
                }
                p += len;
            } else if (wireType == 5) {
                p += 4;
            } else if (wireType == 1) {
                p += 8;
            } else {
                throw malformed("wire type " + wireType);
            }
        }
        if (p != end) {
            throw malformed("field past the end");
        }
    }

    private static ReelException malformed(String what) {
        return new ReelException(ErrorCode.CORRUPTED, "a stored EventRecord does not decode (" + what
            + "); run 'reel verify' on the data directory");
    }

    /** The record's global position in {@code $all}. */
    public long position() {
        return position;
    }

    /** The event's number in its stream (0 for the first event). */
    public long revision() {
        locate();
        return revision;
    }

    public String stream() {
        locate();
        String s = stream;
        if (s == null) {
            s = new String(buf, streamOffset, streamLength, StandardCharsets.UTF_8);
            stream = s;
        }
        return s;
    }

    public String type() {
        locate();
        String t = type;
        if (t == null) {
            t = new String(buf, typeOffset, typeLength, StandardCharsets.UTF_8);
            type = t;
        }
        return t;
    }

    public UUID eventId() {
        locate();
        UUID id = RecordCodec.parseUuid(buf, idOffset, idLength);
        if (id == null) {
            throw malformed("event id is not a UUID");
        }
        return id;
    }

    public String contentType() {
        locate();
        return new String(buf, contentTypeOffset, contentTypeLength, StandardCharsets.UTF_8);
    }

    /** A copy of the event's data. */
    public byte[] data() {
        locate();
        return Arrays.copyOfRange(buf, dataOffset, dataOffset + dataLength);
    }

    /** The event's data without a copy, read-only, from the buffer's position to its limit. */
    public ByteBuffer dataBuffer() {
        locate();
        return ByteBuffer.wrap(buf, dataOffset, dataLength).asReadOnlyBuffer();
    }

    /** A copy of the event's metadata (empty when it has none). */
    public byte[] metadata() {
        locate();
        return Arrays.copyOfRange(buf, metadataOffset, metadataOffset + metadataLength);
    }

    /** When the event was committed, in microseconds since the epoch. */
    public long timestampMicros() {
        locate();
        return timestampMicros;
    }

    public Instant timestamp() {
        return Instant.ofEpochSecond(timestampMicros / 1_000_000, (timestampMicros % 1_000_000) * 1_000);
    }

    /**
     * The stored protobuf {@code EventRecord} bytes, read-only, without a copy, from the buffer's position to its
     * limit: also the wire message.
     */
    public ByteBuffer encoded() {
        return ByteBuffer.wrap(buf, offset, length).asReadOnlyBuffer();
    }

    /** Size of the encoded record in bytes. */
    public int encodedLength() {
        return length;
    }

    /**
     * Whether this record is the last of its append, from the continued flag of the frame header that
     * precedes the body in the buffer. Only for records read from frames (the log, the recent cache).
     */
    public boolean endsAppend() {
        return offset < LogFormat.FRAME_HEADER_SIZE
            || (Bytes.getInt(buf, offset - LogFormat.FRAME_HEADER_SIZE) & LogFormat.CONTINUED_FLAG) == 0;
    }

    public boolean streamEquals(byte[] utf8) {
        locate();
        return Arrays.equals(buf, streamOffset, streamOffset + streamLength, utf8, 0, utf8.length);
    }

    @Override
    public String toString() {
        return "RecordedEvent{position=" + position + ", " + stream() + "@" + revision() + ", " + type() + "}";
    }
}
