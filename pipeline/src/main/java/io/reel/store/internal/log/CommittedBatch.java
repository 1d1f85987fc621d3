package io.reel.store.internal.log;

import io.reel.store.RecordedEvent;
import java.util.Arrays;

/**
 * The frames of one group commit as they were written: a contiguous run of positions, the bytes exactly as on
 * disk (one format-2 frame per append), and where each frame starts in them. Immutable once published; shared
 * by the recent-records cache and every live reader, which decode the frames they read.
 */
public final class CommittedBatch {
    final long firstPosition;
    final int count;
    /** The arena the frames were encoded into (shared with other batches); {@link #length} bytes of it are this batch's. */
    final byte[] bytes;
    final int length;
    /** Where each frame starts in {@link #bytes}. */
    final int[] frameOffsets;
    /** The first position of each frame, less {@link #firstPosition}. */
    final int[] frameStarts;
    final long timestampMicros;
    /** While this is the newest batch: its records, decoded once and shared by every reader of the live tail. */
    private volatile RecordedEvent[] shared;
    private volatile boolean newest = true;
    public CommittedBatch(long firstPosition, int count, byte[] bytes, int length, int[] frameOffsets, int[] frameStarts, long timestampMicros) {
        this.firstPosition = firstPosition;
        this.count = count;
        this.bytes = bytes;
        this.length = length;
        this.frameOffsets = frameOffsets;
        this.frameStarts = frameStarts;
        this.timestampMicros = timestampMicros;
    }

    public long endPosition() {
        return firstPosition + count;
    }

    boolean contains(long position) {
        return position >= firstPosition && position < firstPosition + count;
    }

    /**
     * The batch's records, decoded once and shared, while this is the newest batch: live readers (the Indexer,
     * every subscriber of the tail) then read the same records, and a record encoded for one remote subscriber
     * is encoded for all. Null once a newer batch came ({@link #forget}): older batches stay in memory long
     * enough for young collections to copy whatever they hold, so readers of them decode their own.
     */
    RecordedEvent[] sharedRecords() {
        if (!newest) {
            return null;
        }
        RecordedEvent[] records = shared;
        if (records == null) {
            records = new RecordedEvent[count];
            for (int frame = 0; frame < frameOffsets.length; frame++) {
                int at = frameOffsets[frame];
                FrameCodec.Decoded d = FrameCodec.decode(bytes, at + LogFormat.FRAME_HEADER_SIZE, Bytes.getInt(bytes, at));
                for (int i = 0; i < d.count(); i++) {
                    records[(int) (d.position(i) - firstPosition)] = d.record(i);
                }
            }
            shared = records;
            if (!newest) {
                shared = null;
            }
        }
        return records;
    }

    /** A newer batch was committed: stop sharing decoded records. Writer thread. */
    void forget() {
        newest = false;
        shared = null;
    }

    /**
     * The decoded frame that holds {@code position}. Not cached here: a batch lives in the recent-records cache
     * long enough for young collections to copy whatever it holds, so each reader keeps the frame it reads.
     */
    public FrameCodec.Decoded frameAt(long position) {
        int relative = (int) (position - firstPosition);
        int frame = Arrays.binarySearch(frameStarts, relative);
        if (frame < 0) {
            frame = -frame - 2;
        }
        int at = frameOffsets[frame];
        return FrameCodec.decode(bytes, at + LogFormat.FRAME_HEADER_SIZE, Bytes.getInt(bytes, at));
    }
}
