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
 *  | u64               | u32 1|2  | u32      | u64               | u64               |               | of 0..60 |
 *  +-------------------+----------+----------+-------------------+-------------------+---------------+----------+
 *
 * Frame, format 2 (version 2, what Reel writes): one frame per append, laid out in {@link FrameCodec}.
 *
 * Frame, format 1 (version 1, written by Reel 0.1.0, still read): one frame per event.
 *  0                                  4                     8
 *  +----------------------------------+---------------------+---------------------------------+
 *  | C | 0 |   body length (30 bits)  | CRC32C(body)        | body: protobuf reel.v1.EventRecord |
 *  +----------------------------------+---------------------+---------------------------------+
 *  C (bit 31) = "continued": the next frame belongs to the same append. The last frame of an append has C = 0,
 *  so recovery can cut an append whose tail never reached the disk and keep appends atomic.
 *  Bit 30 is reserved and must be 0.
 * </pre>
 *
 * Positions are dense in a segment as written: the i-th record holds position base + i. Scavenge
 * rewrites sealed segments without unreadable records, so a scavenged segment may skip positions; it never
 * reorders or renumbers them. Segment i covers positions [base(i), base(i+1)).
 */
public final class LogFormat {
    static final long SEGMENT_MAGIC = 0x5245454C5345474DL;
    /** One protobuf {@code EventRecord} per frame: written by Reel 0.1.0, still read. */
    public static final int FORMAT_V1 = 1;
    /** One frame per append ({@link FrameCodec}): what new segments are written in. */
    public static final int FORMAT_V2 = 2;
    public static final int FORMAT_VERSION = FORMAT_V2;
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

    /**
     * The record timestamp below which a stream with {@code maxAge} hides its events, at {@code nowMicros}: saturating,
     * so that a maximum age of centuries (as long as {@code max_age_seconds} allows) hides nothing instead of overflowing.
     */
    public static long ageCutoffMicros(long nowMicros, java.time.Duration maxAge) {
        if (maxAge == null) {
            return Long.MIN_VALUE;
        }
        long seconds = maxAge.getSeconds();
        if (seconds >= (Long.MAX_VALUE / 2) / 1_000_000L) {
            return Long.MIN_VALUE;
        }
        return nowMicros - (seconds * 1_000_000L + maxAge.getNano() / 1_000);
    }
}
