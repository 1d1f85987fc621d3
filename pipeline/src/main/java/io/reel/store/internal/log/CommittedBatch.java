package io.reel.store.internal.log;

import io.reel.store.RecordedEvent;


/**
 * The frames of one group commit as they were written: a contiguous run of positions, the bytes exactly as on
 * disk, and where each record's body lies in them. Immutable once published; shared by the recent-records
 * cache and every live reader (records are views over {@link #bytes}).
 */
public final class CommittedBatch {
    final long firstPosition;
    final int count;
    /** The arena the frames were encoded into (shared with other batches); {@link #length} bytes of it are this batch's. */
    final byte[] bytes;
    final int length;
    final int[] bodyOffsets;
    final int[] bodyLengths;
    final long timestampMicros;

    public CommittedBatch(long firstPosition, int count, byte[] bytes, int length, int[] bodyOffsets, int[] bodyLengths, long timestampMicros) {
        this.firstPosition = firstPosition;
        this.count = count;
        this.bytes = bytes;
        this.length = length;
        this.bodyOffsets = bodyOffsets;
        this.bodyLengths = bodyLengths;
        this.timestampMicros = timestampMicros;
    }

    public long endPosition() {
        return firstPosition + count;
    }

    boolean contains(long position) {
        return position >= firstPosition && position < firstPosition + count;
    }

    public RecordedEvent record(long position) {
        int i = (int) (position - firstPosition);
        return new RecordedEvent(bytes, bodyOffsets[i], bodyLengths[i]);
    }
}
