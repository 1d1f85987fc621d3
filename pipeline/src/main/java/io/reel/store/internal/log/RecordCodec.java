package io.reel.store.internal.log;

import io.reel.store.wire.UuidText;
import java.util.UUID;

/**
 * Encodes the protobuf {@code reel.v1.EventRecord} by hand, straight into a batch buffer, without building
 * message objects on the write path. The output is byte for byte what protobuf-java writes for the same
 * message (fields in number order, fields at their default value left out), so any protobuf library reads it.
 *
 * <pre>
 *  field               number  wire type   tag byte
 *  position            1       varint      0x08
 *  stream              2       len-delim   0x12
 *  revision            3       varint      0x18
 *  event_id            4       len-delim   0x22   (canonical 36-character UUID text)
 *  type                5       len-delim   0x2A
 *  content_type        6       len-delim   0x32
 *  data                7       len-delim   0x3A
 *  metadata            8       len-delim   0x42
 *  timestamp_micros    9       varint      0x48
 * </pre>
 */
public final class RecordCodec {
    public static final int UUID_TEXT_LENGTH = UuidText.LENGTH;


    private RecordCodec() {
    }

    public static int bodySize(long position, byte[] stream, long revision, byte[] type, byte[] contentType,
                        int dataLength, int metadataLength, long timestampMicros) {
        return bodySize(position, stream.length, revision, type.length, contentType.length, dataLength, metadataLength, timestampMicros);
    }

    /** The size of a body whose text and byte fields have these lengths. */
    public static int bodySize(long position, int streamLength, long revision, int typeLength, int contentTypeLength,
                               int dataLength, int metadataLength, long timestampMicros) {
        int size = 0;
        if (position != 0) {
            size += 1 + varintSize(position);
        }
        size += bytesFieldSize(streamLength);
        if (revision != 0) {
            size += 1 + varintSize(revision);
        }
        size += bytesFieldSize(UUID_TEXT_LENGTH);
        size += bytesFieldSize(typeLength);
        size += bytesFieldSize(contentTypeLength);
        size += bytesFieldSize(dataLength);
        size += bytesFieldSize(metadataLength);
        if (timestampMicros != 0) {
            size += 1 + varintSize(timestampMicros);
        }
        return size;
    }

    /** Writes the body at {@code offset} and returns the offset after it. */
    public static int encode(byte[] dst, int offset, long position, byte[] stream, long revision, UUID eventId,
                      byte[] type, byte[] contentType, byte[] data, byte[] metadata, long timestampMicros) {
        return encode(dst, offset, position, stream, 0, stream.length, revision, eventId.getMostSignificantBits(),
            eventId.getLeastSignificantBits(), type, 0, type.length, contentType, 0, contentType.length, data, 0, data.length,
            metadata, 0, metadata.length, timestampMicros);
    }

    /**
     * Writes the body at {@code offset} from fields that lie in other arrays (a format-2 frame's record, whose
     * event id is {@code idHigh:idLow}) and returns the offset after it.
     */
    public static int encode(byte[] dst, int offset, long position, byte[] stream, int streamOffset, int streamLength,
                             long revision, long idHigh, long idLow, byte[] type, int typeOffset, int typeLength,
                             byte[] contentType, int contentTypeOffset, int contentTypeLength, byte[] data, int dataOffset,
                             int dataLength, byte[] metadata, int metadataOffset, int metadataLength, long timestampMicros) {
        int p = offset;
        if (position != 0) {
            dst[p++] = 0x08;
            p = putVarint(dst, p, position);
        }
        p = putBytes(dst, p, 0x12, stream, streamOffset, streamLength);
        if (revision != 0) {
            dst[p++] = 0x18;
            p = putVarint(dst, p, revision);
        }
        dst[p++] = 0x22;
        dst[p++] = UUID_TEXT_LENGTH;
        p = UuidText.write(dst, p, idHigh, idLow);
        p = putBytes(dst, p, 0x2A, type, typeOffset, typeLength);
        p = putBytes(dst, p, 0x32, contentType, contentTypeOffset, contentTypeLength);
        p = putBytes(dst, p, 0x3A, data, dataOffset, dataLength);
        p = putBytes(dst, p, 0x42, metadata, metadataOffset, metadataLength);
        if (timestampMicros != 0) {
            dst[p++] = 0x48;
            p = putVarint(dst, p, timestampMicros);
        }
        return p;
    }

    public static int bytesFieldSize(int length) {
        return length == 0 ? 0 : 1 + varintSize(length) + length;
    }

    public static int varintSize(long value) {
        int n = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            n++;
        }
        return n;
    }

    static int putVarint(byte[] dst, int p, long value) {
        while ((value & ~0x7FL) != 0) {
            dst[p++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        dst[p++] = (byte) value;
        return p;
    }

    private static int putBytes(byte[] dst, int p, int tag, byte[] value, int offset, int length) {
        if (length == 0) {
            return p;
        }
        dst[p++] = (byte) tag;
        p = putVarint(dst, p, length);
        System.arraycopy(value, offset, dst, p, length);
        return p + length;
    }
}
