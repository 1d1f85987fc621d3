package io.reel.store.internal.subscription;

import io.reel.store.RecordedEvent;
import io.reel.store.internal.log.FrameReader;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.RecentReader;
import io.reel.store.internal.log.RecentRecords;
import io.reel.store.internal.log.Segment;
import java.io.IOException;
import java.util.Collection;

/**
 * Reads the log forwards from a position, in position order, never past the head it is given: from the
 * recent-records cache when the records are still there, else from the segment files (checking every
 * frame's checksum). Scavenged positions are skipped. One thread at a time; {@link #close()} releases the
 * segment it holds.
 */
public final class LogCursor implements AutoCloseable {
    public static final int FILE_CHUNK = 256 * 1024;

    private final Log log;
    private final RecentReader recent;
    private long position;
    private Segment segment;
    private FrameReader frames;
    /** The position {@link #frames} continues from; -1 when it must be reopened. */
    private long framesContinueAt = -1;

    public LogCursor(Log log, RecentRecords recent, long position) {
        this.log = log;
        this.recent = new RecentReader(recent);
        this.position = position;
    }

    /** The next position this cursor reads. */
    long position() {
        return position;
    }

    /**
     * Adds up to {@code max} records from the cursor's position to {@code out}; returns how many. Zero means
     * the cursor has reached {@code head}. One call reads at most one committed batch from the cache, or about
     * {@value #FILE_CHUNK} bytes of records from the files (at least one record), so that what a reader holds
     * ahead of its consumer is bounded in bytes as well as in records, whatever the size of the events.
     */
    public int read(Collection<RecordedEvent> out, int max, Log.Head head) throws IOException {
        if (position >= head.position()) {
            return 0;
        }
        int n = recent.read(position, head.position(), max, out);
        if (n > 0) {
            position += n;
            return n;
        }
        return readFile(out, max, head);
    }

    private int readFile(Collection<RecordedEvent> out, int max, Log.Head head) throws IOException {
        if (frames == null || framesContinueAt != position) {
            openAt(position, head);
        }
        int n = 0;
        long bytes = 0;
        while (n < max && bytes < FILE_CHUNK && position < head.position()) {
            FrameReader.Status status = frames.next();
            if (status == FrameReader.Status.FRAME) {
                RecordedEvent record = frames.record();
                if (record.position() >= position) {
                    out.add(record);
                    position = record.position() + 1;
                    bytes += record.encodedLength();
                    n++;
                }
                continue;
            }
            if (status != FrameReader.Status.END) {
                if (log.healIndex(segment)) {
                    openAt(position, head);
                    continue;
                }
                throw Segment.damaged(segment.path(), frames.frameOffset(), position,
                    "frame " + status.name().toLowerCase().replace('_', ' ') + " while reading");
            }
            long end = log.dataEnd(segment, head);
            if (end > frames.nextOffset()) {
                frames = new FrameReader(segment, frames.nextOffset(), end, FILE_CHUNK, true);
                continue;
            }
            if (segment.basePosition() >= head.segmentBase()) {
                break;
            }
            Segment next = log.acquireNext(segment);
            if (next == null) {
                break;
            }
            segment.release();
            segment = next;
            position = Math.max(position, next.basePosition());
            frames = new FrameReader(next, LogFormat.SEGMENT_HEADER_SIZE, log.dataEnd(next, head), FILE_CHUNK, true);
        }
        framesContinueAt = position;
        return n;
    }

    private void openAt(long target, Log.Head head) throws IOException {
        if (segment != null) {
            segment.release();
            segment = null;
        }
        segment = log.acquire(target);
        if (segment == null) {
            segment = log.acquire(log.segments()[0].basePosition());
            position = Math.max(position, segment.basePosition());
        }
        long offset = log.offsetIndex(segment).floorOffset(position);
        frames = new FrameReader(segment, offset, log.dataEnd(segment, head), FILE_CHUNK, true);
    }

    @Override
    public void close() {
        if (segment != null) {
            segment.release();
            segment = null;
        }
        frames = null;
        framesContinueAt = -1;
    }
}
