package io.reel.store.internal.log;

import java.nio.file.Path;

/**
 * The layout of the log's segment files.
 *
 * <p>A segment is a fixed header, then record frames back to back, then zeros up to the preallocated size.
 * A frame whose length word is zero marks the end of written data; the end of the file does too (a sealed
 * segment is truncated to its data).
 *
 * <pre>
 * Segment header (64 bytes, integers big-endian):
 *  0                   8          12         16                  24                  32              60         64
 *  +-------------------+----------+----------+-------------------+-------------------+---------------+----------+
 *  | magic "REELSEGM"  | version  | flags=0  | base position     | created, epoch ms | zeros         | CRC32C   |
 *  | u64               | u32 = 1  | u32      | u64               | u64               |               | of 0..60 |
 *  +-------------------+----------+----------+-------------------+-------------------+---------------+----------+
 *
 * Frame:
 *  0                                  4                     8
 *  +----------------------------------+---------------------+---------------------------------+
 *  | C | 0 |   body length (30 bits)  | CRC32C(body)        | body: protobuf reel.v1.EventRecord |
 *  +----------------------------------+---------------------+---------------------------------+
 *  C (bit 31) = "continued": the next frame belongs to the same append. The last frame of an append has C = 0,
 *  so recovery can cut an append whose tail never reached the disk and keep appends atomic.
 *  Bit 30 is reserved and must be 0.
 * </pre>
 *
 * Positions are dense in a segment as written: the frame at index i holds position base + i. Scavenge
 * rewrites sealed segments without unreadable records, so a scavenged segment may skip positions; it never
 * reorders or renumbers them. Segment i covers positions [base(i), base(i+1)).
 */
public final class LogFormat {
    static final long SEGMENT_MAGIC = 0x5245454C5345474DL;
    static final int FORMAT_VERSION = 1;
    public static final int SEGMENT_HEADER_SIZE = 64;
    static final int HEADER_CRC_OFFSET = 60;
    public static final int FRAME_HEADER_SIZE = 8;
    public static final int CONTINUED_FLAG = 0x8000_0000;
    static final int RESERVED_FLAG = 0x4000_0000;
    static final int LENGTH_MASK = 0x3FFF_FFFF;

    /** Largest stream name, type and content type, in UTF-8 bytes. */
    public static final int MAX_STREAM_NAME = 2048;
    public static final int MAX_TYPE = 1024;
    public static final int MAX_CONTENT_TYPE = 256;
    /** Bound on a record's bytes besides data and metadata: names, id, varints and tags. */
    public static final int MAX_RECORD_OVERHEAD = MAX_STREAM_NAME + MAX_TYPE + MAX_CONTENT_TYPE + 36 + 64;

    public static final String SEGMENT_SUFFIX = ".seg";
    public static final String INDEX_SUFFIX = ".idx";

    private LogFormat() {
    }

    static String segmentFileName(long basePosition) {
        return String.format("%020d%s", basePosition, SEGMENT_SUFFIX);
    }

    public static String indexFileName(long basePosition) {
        return String.format("%020d%s", basePosition, INDEX_SUFFIX);
    }

    /** The base position a segment file name encodes, or -1 when the name is not a segment's. */
    public static long baseOf(Path file) {
        String name = file.getFileName().toString();
        if (name.length() != 20 + SEGMENT_SUFFIX.length() || !name.endsWith(SEGMENT_SUFFIX)) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(0, 20));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A record's timestamp: microseconds since the epoch. */
    public static long micros(java.time.Instant instant) {
        return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1_000;
    }
}
