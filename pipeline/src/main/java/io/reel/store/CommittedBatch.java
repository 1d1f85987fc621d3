package io.reel.store;

/**
 * The frames of one group commit as they were written: a contiguous run of positions, the bytes exactly as on
 * disk, and where each record's body lies in them. Immutable once published; shared by the recent-records
 * cache and every live reader (records are views over {@link #bytes}).
 */
final class CommittedBatch {
    final long firstPosition;
    final int count;
    final byte[] bytes;
    final int[] bodyOffsets;
    final int[] bodyLengths;
    final long timestampMicros;

    CommittedBatch(long firstPosition, int count, byte[] bytes, int[] bodyOffsets, int[] bodyLengths, long timestampMicros) {
        this.firstPosition = firstPosition;
        this.count = count;
        this.bytes = bytes;
        this.bodyOffsets = bodyOffsets;
        this.bodyLengths = bodyLengths;
        this.timestampMicros = timestampMicros;
    }

    long endPosition() {
        return firstPosition + count;
    }

    boolean contains(long position) {
        return position >= firstPosition && position < firstPosition + count;
    }

    RecordedEvent record(long position) {
        int i = (int) (position - firstPosition);
        return new RecordedEvent(bytes, bodyOffsets[i], bodyLengths[i]);
    }
}
