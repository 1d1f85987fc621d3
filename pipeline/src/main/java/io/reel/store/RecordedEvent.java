package io.reel.store;

import io.reel.store.internal.log.Bytes;
import io.reel.store.internal.log.FrameRecords;
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
 * <p>A view, nothing copied: either over a protobuf {@code EventRecord} (a format-1 segment, a record received
 * from a server), whose fields are located on first use, or over a record of a format-2 frame, located when
 * the frame was decoded. {@link #encoded()} gives the protobuf {@code EventRecord}, the wire message: the bytes
 * themselves for the first kind, encoded once on first use for the second. Immutable and safe to share
 * between threads.
 */
public final class RecordedEvent {
    /** {@link #offset} of a record of a format-2 frame, which has no protobuf bytes until {@link #encoded()}. */
    private static final int FRAME_RECORD = -1;

    private final byte[] buf;
    private final int offset;
    private int length;
    /** Where the content type is: {@link #buf}, or a shared constant for a frame record's well-known type. */
    private byte[] contentTypeBuf;
    /** A frame record's event id is 16 bytes, big-endian; a protobuf record's is UUID text. */
    private boolean binaryId;
    private boolean lastOfAppend;
    /** The cluster entry whose frame holds this record; null outside a cluster (and in format 1). */
    private EntryOrigin origin;
    /** A frame record's protobuf encoding, once {@link #encoded()} asked for it (release/acquire). */
    private byte[] protobuf;

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
    private static final java.lang.invoke.VarHandle PROTOBUF;

    static {
        try {
            LOCATED = java.lang.invoke.MethodHandles.lookup().findVarHandle(RecordedEvent.class, "located", boolean.class);
            PROTOBUF = java.lang.invoke.MethodHandles.lookup().findVarHandle(RecordedEvent.class, "protobuf", byte[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        FrameRecords.install(RecordedEvent::new);
    }

    /** A record of a format-2 frame; see {@link FrameRecords.Factory}. */
    private RecordedEvent(byte[] frame, long position, long revision, long timestampMicros, int streamOffset, int streamLength,
                          int idOffset, int typeOffset, int typeLength, byte[] contentTypeBuf, int contentTypeOffset,
                          int contentTypeLength, int dataOffset, int dataLength, int metadataOffset, int metadataLength,
                          boolean lastOfAppend, EntryOrigin origin) {
        this.buf = frame;
        this.offset = FRAME_RECORD;
        this.position = position;
        this.revision = revision;
        this.timestampMicros = timestampMicros;
        this.streamOffset = streamOffset;
        this.streamLength = streamLength;
        this.idOffset = idOffset;
        this.idLength = 16;
        this.binaryId = true;
        this.typeOffset = typeOffset;
        this.typeLength = typeLength;
        this.contentTypeBuf = contentTypeBuf;
        this.contentTypeOffset = contentTypeOffset;
        this.contentTypeLength = contentTypeLength;
        this.dataOffset = dataOffset;
        this.dataLength = dataLength;
        this.metadataOffset = metadataOffset;
        this.metadataLength = metadataLength;
        this.lastOfAppend = lastOfAppend;
        this.origin = origin;
        LOCATED.setRelease(this, true);
    }

    /**
     * A view over {@code length} bytes of an encoded {@code EventRecord} at {@code offset} of {@code buf}, as Reel
     * writes it (position first). Only the position is decoded now; the other fields on first use.
     */
    private RecordedEvent(byte[] buf, int offset, int length) {
        this.buf = buf;
        this.offset = offset;
        this.length = length;
        this.contentTypeBuf = buf;
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
        if (offset != FRAME_RECORD && !(boolean) LOCATED.getAcquire(this)) {
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
        if (binaryId) {
            return new UUID(Bytes.getLong(buf, idOffset), Bytes.getLong(buf, idOffset + 8));
        }
        UUID id = io.reel.store.wire.UuidText.parse(buf, idOffset, idLength);
        if (id == null) {
            throw malformed("event id is not a UUID");
        }
        return id;
    }

    public String contentType() {
        locate();
        return new String(contentTypeBuf, contentTypeOffset, contentTypeLength, StandardCharsets.UTF_8);
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

    /**
     * In a cluster, the entry whose apply wrote this record (the same on every replica); null for a record of a
     * standalone store.
     */
    public EntryOrigin origin() {
        locate();
        return origin;
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
     * The record as a protobuf {@code EventRecord}, read-only, from the buffer's position to its limit: the
     * wire message. Without a copy for a record that was stored or received in that form; a record of a
     * format-2 frame is encoded on the first call.
     */
    public ByteBuffer encoded() {
        if (offset != FRAME_RECORD) {
            return ByteBuffer.wrap(buf, offset, length).asReadOnlyBuffer();
        }
        byte[] e = (byte[]) PROTOBUF.getAcquire(this);
        if (e == null) {
            e = new byte[encodedLength()];
            int end = RecordCodec.encode(e, 0, position, buf, streamOffset, streamLength, revision, Bytes.getLong(buf, idOffset),
                Bytes.getLong(buf, idOffset + 8), buf, typeOffset, typeLength, contentTypeBuf, contentTypeOffset, contentTypeLength,
                buf, dataOffset, dataLength, buf, metadataOffset, metadataLength, timestampMicros);
            assert end == e.length;
            PROTOBUF.setRelease(this, e);
        }
        return ByteBuffer.wrap(e).asReadOnlyBuffer();
    }

    /** Size of {@link #encoded()} in bytes. */
    public int encodedLength() {
        int n = length;
        if (n == 0 && offset == FRAME_RECORD) {
            n = RecordCodec.bodySize(position, streamLength, revision, typeLength, contentTypeLength, dataLength, metadataLength,
                timestampMicros);
            length = n;
        }
        return n;
    }

    /**
     * Whether this record is the last of its append: known from its frame in format 2, and in format 1 from
     * the continued flag of the frame header that precedes the body in the buffer. Only for records read
     * from the log or the recent cache.
     */
    public boolean endsAppend() {
        if (offset == FRAME_RECORD) {
            return lastOfAppend;
        }
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
