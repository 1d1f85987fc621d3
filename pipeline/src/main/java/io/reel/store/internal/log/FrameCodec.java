package io.reel.store.internal.log;

import io.reel.store.EntryOrigin;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * Format 2 of the log: one frame per append. Everything the events of an append share (first position and
 * revision, commit time, count, stream name) is written once in the frame's header, and each event is a
 * compact record after it; one CRC32C covers the whole frame. The writer encodes straight from
 * {@link EventData} into its batch buffer ({@link #encode}); readers decode a frame into records
 * ({@link #decode}): {@link RecordedEvent}s over the frame's bytes, which encode the protobuf
 * {@code EventRecord} the wire carries only when a remote reader asks for it.
 *
 * <pre>
 * Frame (integers big-endian; varint = unsigned LEB128):
 *  0                    4                    8
 *  +--------------------+--------------------+--------------------------------------------------------+
 *  | 0 | 0 | length (30 bits) | CRC32C(rest) | rest: header, then count records                       |
 *  +--------------------+--------------------+--------------------------------------------------------+
 *  length counts the rest (not these 8 bytes); bits 31 and 30 are 0 (format 1's continued/reserved flags).
 *
 * Header:
 *  +-------+----------------+----------------+------------------+---------+---------------+-------------+
 *  | attrs | first_position | first_revision | timestamp_micros | count   | varint stream | stream      |
 *  | u8    | u64            | u64            | i64              | u32     | length        | UTF-8       |
 *  +-------+----------------+----------------+------------------+---------+---------------+-------------+
 *  attrs bits 0-2: compression of the records (0 none, 1 LZ4 block: then u32 uncompressed length, then
 *  the compressed records); bit 3: a cluster frame, whose origin follows the stream: u64 raft_term, u64
 *  raft_index and a varint write (the place of the write in its Raft entry, see {@link EntryOrigin}); bits 4-7: 0.
 *
 * Record:
 *  +--------------+---------------+--------------+------+--------------+-----------------+------+----------+
 *  | varint delta | event id      | varint type  | type | content type | varint data     | data | varint   | metadata
 *  |              | 16 bytes UUID | length       | UTF-8| u8 code      | length          |      | meta len |
 *  +--------------+---------------+--------------+------+--------------+-----------------+------+----------+
 *  content type code: 0 none, 1 application/x-protobuf, 2 application/json,
 *  3 other (then varint length and the UTF-8 text), 4 application/octet-stream.
 * </pre>
 *
 * The record at {@code delta} d has position {@code first_position + d} and revision {@code first_revision + d}.
 * A fresh frame has deltas 0, 1, 2, …; scavenge drops records and keeps the deltas of the others, so
 * positions never move. A frame holds at least one record; deltas rise strictly.
 */
public final class FrameCodec {
    static final int FORMAT_VERSION = 2;
    /** attrs, first position, first revision, timestamp, count. */
    static final int FIXED_HEADER = 1 + 8 + 8 + 8 + 4;
    static final int ATTR_COMPRESSION_MASK = 0x07;
    static final int ATTR_CLUSTER = 0x08;
    static final int COMPRESSION_NONE = 0;
    public static final int COMPRESSION_LZ4 = 1;
    static final int UUID_BYTES = 16;
    /** The most bytes a frame's origin takes: term, index and the write's place (a varint of an int). */
    public static final int ORIGIN_BYTES_MAX = 8 + 8 + 5;

    static final int CT_NONE = 0;
    static final int CT_PROTOBUF = 1;
    static final int CT_JSON = 2;
    static final int CT_OTHER = 3;
    static final int CT_OCTET_STREAM = 4;

    private static final byte[] PROTOBUF_UTF8 = EventData.PROTOBUF.getBytes(StandardCharsets.UTF_8);
    private static final byte[] JSON_UTF8 = EventData.JSON.getBytes(StandardCharsets.UTF_8);
    private static final byte[] OCTET_STREAM_UTF8 = EventData.OCTET_STREAM.getBytes(StandardCharsets.UTF_8);
    private static final byte[] EMPTY = new byte[0];

    private FrameCodec() {
    }

    static int contentTypeCode(String contentType) {
        return switch (contentType) {
            case "" -> CT_NONE;
            case EventData.PROTOBUF -> CT_PROTOBUF;
            case EventData.JSON -> CT_JSON;
            case EventData.OCTET_STREAM -> CT_OCTET_STREAM;
            default -> CT_OTHER;
        };
    }

    /** The bytes of the header after the 8-byte length and CRC words. */
    public static int headerSize(byte[] stream, EntryOrigin origin) {
        return FIXED_HEADER + varintSize(stream.length) + stream.length + (origin == null ? 0 : 16 + varintSize(origin.write()));
    }

    /** The bytes of one record at {@code delta}. */
    static int recordSize(long delta, EventData e) {
        byte[] type = e.typeUtf8();
        int size = varintSize(delta) + UUID_BYTES + varintSize(type.length) + type.length + 1;
        if (contentTypeCode(e.contentType()) == CT_OTHER) {
            byte[] ct = e.contentTypeUtf8();
            size += varintSize(ct.length) + ct.length;
        }
        int data = e.data().length;
        int metadata = e.metadata().length;
        return size + varintSize(data) + data + varintSize(metadata) + metadata;
    }

    /** The bytes of a fresh frame of {@code events}, the length and CRC words included. */
    public static int frameSize(byte[] stream, EntryOrigin origin, List<EventData> events) {
        int size = LogFormat.FRAME_HEADER_SIZE + headerSize(stream, origin);
        for (int i = 0; i < events.size(); i++) {
            size += recordSize(i, events.get(i));
        }
        return size;
    }

    /**
     * Writes a fresh frame of {@code events} (deltas 0, 1, 2, …) at {@code p} of {@code dst}, checksum
     * included, and returns the offset after it. No allocation: the caller sized {@code dst} with
     * {@link #frameSize}.
     */
    public static int encode(byte[] dst, int p, long firstPosition, long firstRevision, long timestampMicros, byte[] stream,
                             EntryOrigin origin, List<EventData> events) {
        int start = p;
        p = putHeader(dst, p + LogFormat.FRAME_HEADER_SIZE, firstPosition, firstRevision, timestampMicros, events.size(), stream, origin);
        for (int i = 0; i < events.size(); i++) {
            EventData e = events.get(i);
            p = putVarint(dst, p, i);
            p = putUuid(dst, p, e.eventId());
            byte[] type = e.typeUtf8();
            p = putBytes(dst, p, type, 0, type.length);
            int code = contentTypeCode(e.contentType());
            dst[p++] = (byte) code;
            if (code == CT_OTHER) {
                byte[] ct = e.contentTypeUtf8();
                p = putBytes(dst, p, ct, 0, ct.length);
            }
            byte[] data = e.data();
            p = putBytes(dst, p, data, 0, data.length);
            byte[] metadata = e.metadata();
            p = putBytes(dst, p, metadata, 0, metadata.length);
        }
        seal(dst, start, p);
        return p;
    }

    /**
     * Writes a frame holding some records of one append, as scavenge and repair keep them: {@code records}
     * belong to one stream, in position order, with revisions that step with their positions; each keeps its
     * position and revision (the first one's are the header's, the others' are deltas from it), and the frame
     * keeps the first one's origin.
     */
    public static byte[] encodeRecords(List<RecordedEvent> records) {
        RecordedEvent first = records.get(0);
        byte[] stream = first.stream().getBytes(StandardCharsets.UTF_8);
        long firstPosition = first.position();
        long firstRevision = first.revision();
        int size = LogFormat.FRAME_HEADER_SIZE + headerSize(stream, first.origin());
        for (RecordedEvent r : records) {
            long delta = r.position() - firstPosition;
            if (delta < 0 || r.revision() - firstRevision != delta || !r.stream().equals(first.stream())) {
                throw new IllegalArgumentException("records of one frame must be one append's, in order: " + r);
            }
            byte[] type = r.type().getBytes(StandardCharsets.UTF_8);
            size += varintSize(delta) + UUID_BYTES + varintSize(type.length) + type.length + 1;
            if (contentTypeCode(r.contentType()) == CT_OTHER) {
                int ct = r.contentType().getBytes(StandardCharsets.UTF_8).length;
                size += varintSize(ct) + ct;
            }
            int data = r.dataBuffer().remaining();
            int metadata = r.metadata().length;
            size += varintSize(data) + data + varintSize(metadata) + metadata;
        }
        byte[] dst = new byte[size];
        int p = putHeader(dst, LogFormat.FRAME_HEADER_SIZE, firstPosition, firstRevision, first.timestampMicros(), records.size(), stream,
            first.origin());
        for (RecordedEvent r : records) {
            p = putVarint(dst, p, r.position() - firstPosition);
            p = putUuid(dst, p, r.eventId());
            byte[] type = r.type().getBytes(StandardCharsets.UTF_8);
            p = putBytes(dst, p, type, 0, type.length);
            int code = contentTypeCode(r.contentType());
            dst[p++] = (byte) code;
            if (code == CT_OTHER) {
                byte[] ct = r.contentType().getBytes(StandardCharsets.UTF_8);
                p = putBytes(dst, p, ct, 0, ct.length);
            }
            byte[] data = r.data();
            p = putBytes(dst, p, data, 0, data.length);
            byte[] metadata = r.metadata();
            p = putBytes(dst, p, metadata, 0, metadata.length);
        }
        if (p != size) {
            throw new IllegalStateException("encoded " + p + " bytes, sized " + size);
        }
        seal(dst, 0, p);
        return dst;
    }

    private static int putHeader(byte[] dst, int p, long firstPosition, long firstRevision, long timestampMicros, int count,
                                 byte[] stream, EntryOrigin origin) {
        dst[p++] = (byte) (origin == null ? 0 : ATTR_CLUSTER);
        Bytes.putLong(dst, p, firstPosition);
        Bytes.putLong(dst, p + 8, firstRevision);
        Bytes.putLong(dst, p + 16, timestampMicros);
        Bytes.putInt(dst, p + 24, count);
        p = putBytes(dst, p + 28, stream, 0, stream.length);
        if (origin == null) {
            return p;
        }
        Bytes.putLong(dst, p, origin.term());
        Bytes.putLong(dst, p + 8, origin.index());
        return putVarint(dst, p + 16, origin.write());
    }

    /** Fills in the length and CRC words of the frame at {@code start} that ends at {@code end}. */
    static void seal(byte[] dst, int start, int end) {
        int length = end - start - LogFormat.FRAME_HEADER_SIZE;
        if ((length & ~LogFormat.LENGTH_MASK) != 0) {
            throw new IllegalArgumentException("a frame of " + length + " bytes is larger than a frame can be");
        }
        Bytes.putInt(dst, start, length);
        Bytes.putInt(dst, start + 4, Crc.of(dst, start + LogFormat.FRAME_HEADER_SIZE, length));
    }

    /** The position of the frame's first record, from the header and the first delta, without decoding the rest. */
    static long firstPositionOf(byte[] buf, int bodyOffset, int bodyLength) {
        int headerEnd = bodyOffset + FIXED_HEADER;
        if (bodyLength < FIXED_HEADER + 1) {
            throw malformed("a frame shorter than its header");
        }
        int[] cursor = {headerEnd};
        int streamLength = checkedLength(buf, cursor, bodyOffset + bodyLength);
        cursor[0] += streamLength;
        skipOrigin(buf, bodyOffset, cursor, bodyOffset + bodyLength);
        if ((buf[bodyOffset] & ATTR_COMPRESSION_MASK) != COMPRESSION_NONE) {
            byte[] body = FrameCompression.decompress(buf, bodyOffset, bodyLength, cursor[0] - bodyOffset);
            return firstPositionOf(body, 0, body.length);
        }
        long delta = getVarint(buf, cursor, bodyOffset + bodyLength);
        return Bytes.getLong(buf, bodyOffset + 1) + delta;
    }

    /**
     * The records of the frame whose body (everything after the length and CRC words) is {@code bodyLength}
     * bytes at {@code bodyOffset}, located: one pass over the body, nothing copied. Throws {@code CORRUPTED}
     * when the body does not decode.
     */
    static Decoded decode(byte[] buf, int bodyOffset, int bodyLength) {
        int end = bodyOffset + bodyLength;
        if (bodyLength < FIXED_HEADER + 1) {
            throw malformed("a frame shorter than its header");
        }
        int attributes = buf[bodyOffset] & 0xFF;
        if ((attributes & ~(ATTR_COMPRESSION_MASK | ATTR_CLUSTER)) != 0 || (attributes & ATTR_COMPRESSION_MASK) > COMPRESSION_LZ4) {
            throw malformed("unknown frame attributes " + attributes);
        }
        int[] cur = {bodyOffset + FIXED_HEADER};
        int streamLength = checkedLength(buf, cur, end);
        int streamOffset = cur[0];
        cur[0] += streamLength;
        EntryOrigin origin = origin(buf, bodyOffset, cur, end);
        if ((attributes & ATTR_COMPRESSION_MASK) == COMPRESSION_LZ4) {
            byte[] body = FrameCompression.decompress(buf, bodyOffset, bodyLength, cur[0] - bodyOffset);
            return decode(body, 0, body.length);
        }
        long firstPosition = Bytes.getLong(buf, bodyOffset + 1);
        long firstRevision = Bytes.getLong(buf, bodyOffset + 9);
        long timestamp = Bytes.getLong(buf, bodyOffset + 17);
        int count = Bytes.getInt(buf, bodyOffset + 25);
        if (firstPosition < 0 || firstRevision < 0 || count <= 0 || count > bodyLength) {
            throw malformed("header: first position " + firstPosition + ", first revision " + firstRevision + ", count " + count);
        }
        int[] fields = new int[count * FIELDS];
        long[] positions = new long[count];
        long previousDelta = -1;
        for (int i = 0; i < count; i++) {
            int f = i * FIELDS;
            long delta = getVarint(buf, cur, end);
            if (delta <= previousDelta || delta > Long.MAX_VALUE - firstPosition || delta > Long.MAX_VALUE - firstRevision) {
                throw malformed("record " + i + " has delta " + delta + " after " + previousDelta);
            }
            previousDelta = delta;
            positions[i] = firstPosition + delta;
            if (end - cur[0] < UUID_BYTES) {
                throw malformed("record " + i + " ends in its event id");
            }
            fields[f + ID] = cur[0];
            cur[0] += UUID_BYTES;
            fields[f + TYPE_LENGTH] = checkedLength(buf, cur, end);
            fields[f + TYPE] = cur[0];
            cur[0] += fields[f + TYPE_LENGTH];
            if (cur[0] >= end) {
                throw malformed("record " + i + " ends before its content type");
            }
            int code = buf[cur[0]++];
            fields[f + CT_CODE] = code;
            if (code == CT_OTHER) {
                fields[f + CT_LENGTH] = checkedLength(buf, cur, end);
                fields[f + CT] = cur[0];
                cur[0] += fields[f + CT_LENGTH];
            } else if (code < 0 || code > CT_OCTET_STREAM) {
                throw malformed("record " + i + " has content type code " + code);
            } else {
                fields[f + CT_LENGTH] = knownContentType(code).length;
            }
            fields[f + DATA_LENGTH] = checkedLength(buf, cur, end);
            fields[f + DATA] = cur[0];
            cur[0] += fields[f + DATA_LENGTH];
            fields[f + META_LENGTH] = checkedLength(buf, cur, end);
            fields[f + META] = cur[0];
            cur[0] += fields[f + META_LENGTH];
        }
        if (cur[0] != end) {
            throw malformed((end - cur[0]) + " bytes after the last record");
        }
        return new Decoded(buf, streamOffset, streamLength, firstPosition, firstRevision, timestamp, origin, positions, fields);
    }

    /**
     * A cluster frame's origin, read at {@code cursor} (just after the stream name), which it moves past it;
     * null, without moving, for a frame of a standalone store.
     */
    private static EntryOrigin origin(byte[] buf, int bodyOffset, int[] cursor, int end) {
        int at = cursor[0];
        if (!skipOrigin(buf, bodyOffset, cursor, end)) {
            return null;
        }
        long term = Bytes.getLong(buf, at);
        long index = Bytes.getLong(buf, at + 8);
        int[] write = {at + 16};
        return new EntryOrigin(term, index, (int) getVarint(buf, write, end));
    }

    /** Moves {@code cursor} past a cluster frame's origin, checked, without building it; false for a standalone frame. */
    private static boolean skipOrigin(byte[] buf, int bodyOffset, int[] cursor, int end) {
        if ((buf[bodyOffset] & ATTR_CLUSTER) == 0) {
            return false;
        }
        if (end - cursor[0] < 16) {
            throw malformed("a cluster frame ends in its origin");
        }
        long term = Bytes.getLong(buf, cursor[0]);
        long index = Bytes.getLong(buf, cursor[0] + 8);
        cursor[0] += 16;
        long write = getVarint(buf, cursor, end);
        if (term < 0 || index < 0 || write < 0 || write > Integer.MAX_VALUE) {
            throw malformed("origin: term " + term + ", index " + index + ", write " + write);
        }
        return true;
    }

    private static final int FIELDS = 10;
    private static final int ID = 0;
    private static final int TYPE = 1;
    private static final int TYPE_LENGTH = 2;
    private static final int CT_CODE = 3;
    private static final int CT = 4;
    private static final int CT_LENGTH = 5;
    private static final int DATA = 6;
    private static final int DATA_LENGTH = 7;
    private static final int META = 8;
    private static final int META_LENGTH = 9;

    private static byte[] knownContentType(int code) {
        return switch (code) {
            case CT_PROTOBUF -> PROTOBUF_UTF8;
            case CT_JSON -> JSON_UTF8;
            case CT_OCTET_STREAM -> OCTET_STREAM_UTF8;
            default -> EMPTY;
        };
    }

    /**
     * The records of one frame, located: their positions, and each record as a {@link RecordedEvent} over the
     * frame's bytes when it is asked for. The bytes must not change while the records are in use (readers
     * decode from a chunk they do not refill, or from a fresh one, or from a committed batch).
     */
    public static final class Decoded {
        private final long[] positions;
        final long timestampMicros;
        private final byte[] source;
        private final int streamOffset;
        private final int streamLength;
        private final long firstPosition;
        private final long firstRevision;
        private final int[] fields;
        private final EntryOrigin origin;

        Decoded(byte[] source, int streamOffset, int streamLength, long firstPosition, long firstRevision, long timestampMicros,
                EntryOrigin origin, long[] positions, int[] fields) {
            this.origin = origin;
            this.source = source;
            this.streamOffset = streamOffset;
            this.streamLength = streamLength;
            this.firstPosition = firstPosition;
            this.firstRevision = firstRevision;
            this.timestampMicros = timestampMicros;
            this.positions = positions;
            this.fields = fields;
        }

        public int count() {
            return positions.length;
        }

        public long position(int i) {
            return positions[i];
        }

        /** The index of the record at {@code position}, or -1 when the frame does not hold it. */
        public int indexOf(long position) {
            int i = (int) Math.min(position - positions[0], positions.length - 1);
            if (i < 0) {
                return -1;
            }
            if (positions[i] == position) {
                return i;
            }
            int found = java.util.Arrays.binarySearch(positions, 0, i, position);
            return found < 0 ? -1 : found;
        }

        public RecordedEvent record(int i) {
            int f = i * FIELDS;
            int code = fields[f + CT_CODE];
            byte[] ct = code == CT_OTHER ? source : knownContentType(code);
            long position = positions[i];
            return FrameRecords.factory().record(source, position, firstRevision + (position - firstPosition), timestampMicros,
                streamOffset, streamLength, fields[f + ID], fields[f + TYPE], fields[f + TYPE_LENGTH], ct,
                code == CT_OTHER ? fields[f + CT] : 0, fields[f + CT_LENGTH], fields[f + DATA], fields[f + DATA_LENGTH],
                fields[f + META], fields[f + META_LENGTH], i == positions.length - 1, origin);
        }
    }

    static int varintSize(long value) {
        return RecordCodec.varintSize(value);
    }

    static int putVarint(byte[] dst, int p, long value) {
        return RecordCodec.putVarint(dst, p, value);
    }

    private static int putBytes(byte[] dst, int p, byte[] src, int offset, int length) {
        p = putVarint(dst, p, length);
        System.arraycopy(src, offset, dst, p, length);
        return p + length;
    }

    private static int putUuid(byte[] dst, int p, UUID id) {
        Bytes.putLong(dst, p, id.getMostSignificantBits());
        Bytes.putLong(dst, p + 8, id.getLeastSignificantBits());
        return p + UUID_BYTES;
    }

    private static long getVarint(byte[] buf, int[] cursor, int end) {
        long v = 0;
        int shift = 0;
        int p = cursor[0];
        byte b;
        do {
            if (p >= end || shift > 63) {
                throw malformed("a varint runs past the frame");
            }
            b = buf[p++];
            v |= (long) (b & 0x7F) << shift;
            shift += 7;
        } while (b < 0);
        cursor[0] = p;
        return v;
    }

    /** A varint length, checked to fit in what is left of the frame. */
    private static int checkedLength(byte[] buf, int[] cursor, int end) {
        long length = getVarint(buf, cursor, end);
        if (length < 0 || length > end - cursor[0]) {
            throw malformed("a length of " + length + " runs past the frame");
        }
        return (int) length;
    }

    static ReelException malformed(String what) {
        return new ReelException(ErrorCode.CORRUPTED, "a stored frame does not decode (" + what
            + "); run 'reel verify' on the data directory");
    }
}
