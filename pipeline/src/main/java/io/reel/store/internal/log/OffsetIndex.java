package io.reel.store.internal.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The sparse position→offset index of one segment: the first frame at or after every
 * {@value #INTERVAL_BYTES} bytes of data, so a read at any position starts at most that far from its frame.
 * Derived data: rebuilt from the segment whenever it is missing or fails its checks.
 *
 * <p>One writer (the writer thread for the active segment, the indexer for a sealed one) adds entries; any
 * thread may look up. An entry is visible once {@link #count} (volatile) covers it.
 *
 * <pre>
 * File (.idx beside the .seg, integers big-endian):
 *  0                8          12             16                24               32                40                 48
 *  +----------------+----------+--------------+-----------------+----------------+-----------------+------------------+
 *  | magic REELOIDX | version 1| entry count n| base position   | data end offset| last position   | last timestamp us|
 *  +----------------+----------+--------------+-----------------+----------------+-----------------+------------------+
 *  then n entries of (u32 position - base, u32 offset), then u32 CRC32C of everything before it.
 * </pre>
 */
public final class OffsetIndex {
    public static final int INTERVAL_BYTES = 4096;
    static final long FILE_MAGIC = 0x5245454C4F494458L;
    static final int FILE_VERSION = 1;
    private static final int FILE_HEADER = 48;

    private final long basePosition;
    private int[] relativePositions;
    private int[] offsets;
    private volatile int count;
    private long lastEntryOffset = -INTERVAL_BYTES;
    private long dataEnd = LogFormat.SEGMENT_HEADER_SIZE;
    private long lastPosition = -1;
    private long lastTimestampMicros;

    private OffsetIndex(long basePosition, int capacity) {
        this.basePosition = basePosition;
        this.relativePositions = new int[Math.max(capacity, 16)];
        this.offsets = new int[Math.max(capacity, 16)];
    }

    public static OffsetIndex empty(long basePosition) {
        return new OffsetIndex(basePosition, 64);
    }

    /** Records that a frame holding {@code position} starts at {@code offset}; called in file order by one thread. */
    public void onFrame(long position, long offset, long frameEnd, long timestampMicros) {
        if (offset - lastEntryOffset >= INTERVAL_BYTES) {
            int n = count;
            if (n == offsets.length) {
                relativePositions = Arrays.copyOf(relativePositions, n * 2);
                offsets = Arrays.copyOf(offsets, n * 2);
            }
            relativePositions[n] = (int) (position - basePosition);
            offsets[n] = (int) offset;
            lastEntryOffset = offset;
            count = n + 1;
        }
        dataEnd = frameEnd;
        lastPosition = position;
        lastTimestampMicros = timestampMicros;
    }

    public int count() {
        return count;
    }

    public long positionAt(int entry) {
        return basePosition + relativePositions[entry];
    }

    public long offsetAt(int entry) {
        return offsets[entry] & 0xFFFF_FFFFL;
    }

    /** The last entry whose position is at or below {@code position}, or -1 when there is none. */
    int floorEntry(long position) {
        int n = count;
        int[] rel = relativePositions;
        long target = position - basePosition;
        int lo = 0;
        int hi = n - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (rel[mid] <= target) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** Where to start reading for {@code position}: the floor entry's offset, or just after the header. */
    public long floorOffset(long position) {
        int e = floorEntry(position);
        return e < 0 ? LogFormat.SEGMENT_HEADER_SIZE : offsetAt(e);
    }

    long dataEnd() {
        return dataEnd;
    }

    public long lastPosition() {
        return lastPosition;
    }

    public long lastTimestampMicros() {
        return lastTimestampMicros;
    }

    public void write(Path file) throws IOException {
        int n = count;
        byte[] b = new byte[FILE_HEADER + n * 8 + 4];
        Bytes.putLong(b, 0, FILE_MAGIC);
        Bytes.putInt(b, 8, FILE_VERSION);
        Bytes.putInt(b, 12, n);
        Bytes.putLong(b, 16, basePosition);
        Bytes.putLong(b, 24, dataEnd);
        Bytes.putLong(b, 32, lastPosition);
        Bytes.putLong(b, 40, lastTimestampMicros);
        int p = FILE_HEADER;
        for (int i = 0; i < n; i++) {
            Bytes.putInt(b, p, relativePositions[i]);
            Bytes.putInt(b, p + 4, offsets[i]);
            p += 8;
        }
        Bytes.putInt(b, p, Crc.of(b, 0, p));
        AtomicFiles.writeRaw(file, b);
    }

    /**
     * Loads an index file and checks it against its segment: checksum, base position, data end equal to the
     * sealed segment's size, entries increasing and inside the data. Returns null when any check fails, so the
     * caller rebuilds it from the segment.
     */
    public static OffsetIndex load(Path file, long basePosition, long segmentSize) {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (IOException e) {
            return null;
        }
        if (b.length < FILE_HEADER + 4 || Bytes.getLong(b, 0) != FILE_MAGIC || Bytes.getInt(b, 8) != FILE_VERSION) {
            return null;
        }
        int n = Bytes.getInt(b, 12);
        if (n < 0 || b.length != FILE_HEADER + (long) n * 8 + 4 || Bytes.getInt(b, b.length - 4) != Crc.of(b, 0, b.length - 4)) {
            return null;
        }
        if (Bytes.getLong(b, 16) != basePosition || Bytes.getLong(b, 24) != segmentSize) {
            return null;
        }
        OffsetIndex index = new OffsetIndex(basePosition, n);
        int p = FILE_HEADER;
        long previousOffset = LogFormat.SEGMENT_HEADER_SIZE - 1L;
        int previousRelative = -1;
        for (int i = 0; i < n; i++) {
            int rel = Bytes.getInt(b, p);
            long off = Bytes.getInt(b, p + 4) & 0xFFFF_FFFFL;
            if (rel <= previousRelative || off <= previousOffset || off >= segmentSize) {
                return null;
            }
            index.relativePositions[i] = rel;
            index.offsets[i] = (int) off;
            previousRelative = rel;
            previousOffset = off;
            p += 8;
        }
        index.count = n;
        index.lastEntryOffset = n == 0 ? -INTERVAL_BYTES : previousOffset;
        index.dataEnd = segmentSize;
        index.lastPosition = Bytes.getLong(b, 32);
        index.lastTimestampMicros = Bytes.getLong(b, 40);
        return index;
    }
}
