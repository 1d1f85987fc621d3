package io.reel.store.internal.log;

import io.reel.store.RecordedEvent;
import java.util.Collection;

/**
 * One reader's way into the {@link RecentRecords} cache: it keeps the frame it decoded last, since consecutive
 * reads mostly fall in one frame, and never serves a position the cache has stopped serving (scavenged). Not
 * shared: one reader, one thread at a time.
 */
public final class RecentReader {
    private final RecentRecords recent;
    private FrameCodec.Decoded frame;

    public RecentReader(RecentRecords recent) {
        this.recent = recent;
    }

    /** The record at {@code position} from memory, or null when the cache does not hold it (read the files). */
    public RecordedEvent read(long position) {
        FrameCodec.Decoded f = frame;
        int i = f == null ? -1 : f.indexOf(position);
        if (i >= 0 && recent.serves(position)) {
            return f.record(i);
        }
        CommittedBatch batch = recent.find(position);
        if (batch == null) {
            return null;
        }
        RecordedEvent[] shared = batch.sharedRecords();
        if (shared != null) {
            return shared[(int) (position - batch.firstPosition)];
        }
        f = batch.frameAt(position);
        frame = f;
        i = f.indexOf(position);
        return i < 0 ? null : f.record(i);
    }

    /**
     * Adds the records from {@code from} up to {@code end}, at most {@code max}, to {@code out}, as long as they
     * are in one committed batch in memory; returns how many (0: not in memory, read the files).
     */
    public int read(long from, long end, int max, Collection<RecordedEvent> out) {
        CommittedBatch batch = recent.find(from);
        if (batch == null) {
            return 0;
        }
        long stop = Math.min(Math.min(end, batch.endPosition()), from + max);
        RecordedEvent[] shared = batch.sharedRecords();
        if (shared != null) {
            for (long p = from; p < stop; p++) {
                out.add(shared[(int) (p - batch.firstPosition)]);
            }
            return (int) (stop - from);
        }
        long position = from;
        int n = 0;
        while (position < stop) {
            FrameCodec.Decoded f = frame;
            int i = f == null ? -1 : f.indexOf(position);
            if (i < 0) {
                f = batch.frameAt(position);
                frame = f;
                i = f.indexOf(position);
                if (i < 0) {
                    throw new IllegalStateException("a committed batch's frame does not hold position " + position);
                }
            }
            for (; i < f.count() && f.position(i) < stop; i++) {
                out.add(f.record(i));
                n++;
            }
            position = Math.min(stop, f.position(f.count() - 1) + 1);
        }
        return n;
    }
}
