package io.reel.store.internal.log;

import io.reel.store.RecordedEvent;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads records by position, in any order: for stream reads (positions come from the stream index) and for
 * backward reads of {@code $all}. Uses the recent-records cache first; in the files it starts from the
 * nearest offset-index entry at or below the position, and keeps reading forwards when the next position
 * asked for lies ahead in the same segment, so a stream whose events sit close together costs one
 * sequential read. One thread at a time.
 */
public final class PositionReader implements AutoCloseable {
    private static final int CHUNK = OffsetIndex.INTERVAL_BYTES + 512;

    private final Log log;
    private final RecentReader recent;
    private Segment segment;
    private FrameReader reader;
    private long readerPosition = -1;
    private long readerLimit = -1;

    public PositionReader(Log log, RecentRecords recent) {
        this.log = log;
        this.recent = new RecentReader(recent);
    }

    /** The record at {@code position}, or null when that position no longer exists (scavenged). */
    public RecordedEvent read(long position, Log.Head head) throws IOException {
        if (position >= head.position()) {
            return null;
        }
        RecordedEvent cached = recent.read(position);
        if (cached != null) {
            return cached;
        }
        if (segment == null || !covers(segment, position, head)) {
            release();
            segment = log.acquire(position);
            if (segment == null) {
                return null;
            }
        }
        OffsetIndex index = log.offsetIndex(segment);
        long floor = index.floorOffset(position);
        if (reader == null || position < readerPosition || position >= readerLimit || floor > reader.nextOffset()) {
            reader = new FrameReader(segment, floor, log.dataEnd(segment, head), CHUNK, true);
            readerLimit = head.position();
        }
        reader.skipFramesBefore(position);
        while (true) {
            FrameReader.Status status = reader.next();
            if (status == FrameReader.Status.END) {
                readerPosition = Long.MAX_VALUE;
                return null;
            }
            if (status != FrameReader.Status.FRAME) {
                if (log.healIndex(segment)) {
                    reader = null;
                    return read(position, head);
                }
                throw Segment.damaged(segment.path(), reader.frameOffset(), position,
                    "frame " + status.name().toLowerCase().replace('_', ' ') + " while reading");
            }
            long at = reader.position();
            readerPosition = at + 1;
            if (at == position) {
                return reader.record();
            }
            if (at > position) {
                return null;
            }
        }
    }

    /**
     * Records of {@code $all} at or below {@code position}, newest first: the block of records between the
     * index entry at or below it and {@code position}, so that a backward read walks the log one
     * index interval at a time. Empty when nothing is left below.
     */
    public List<RecordedEvent> blockBackwards(long position, Log.Head head) throws IOException {
        List<RecordedEvent> block = new ArrayList<>();
        long target = Math.min(position, head.position() - 1);
        while (target >= 0 && block.isEmpty()) {
            Segment s = log.acquire(target);
            if (s == null) {
                return block;
            }
            try {
                OffsetIndex index = log.offsetIndex(s);
                int entry = index.floorEntry(target);
                long from = entry < 0 ? LogFormat.SEGMENT_HEADER_SIZE : index.offsetAt(entry);
                FrameReader frames = new FrameReader(s, from, log.dataEnd(s, head), CHUNK, true);
                FrameReader.Status status;
                while ((status = frames.next()) != FrameReader.Status.END) {
                    if (status != FrameReader.Status.FRAME) {
                        if (log.healIndex(s)) {
                            return blockBackwards(position, head);
                        }
                        throw Segment.damaged(s.path(), frames.frameOffset(), target,
                            "frame " + status.name().toLowerCase().replace('_', ' ') + " while reading backwards");
                    }
                    RecordedEvent record = frames.record();
                    if (record.position() > target) {
                        break;
                    }
                    block.add(record);
                }
                java.util.Collections.reverse(block);
                long below = entry < 0 ? s.basePosition() : index.positionAt(entry);
                if (block.isEmpty()) {
                    target = below - 1;
                }
            } finally {
                s.release();
            }
        }
        return block;
    }

    private boolean covers(Segment s, long position, Log.Head head) {
        if (position < s.basePosition()) {
            return false;
        }
        Segment[] all = log.segments();
        for (Segment candidate : all) {
            if (candidate.basePosition() > s.basePosition()) {
                return position < candidate.basePosition();
            }
        }
        return true;
    }

    private void release() {
        if (segment != null) {
            segment.release();
            segment = null;
        }
        reader = null;
        readerPosition = -1;
        readerLimit = -1;
    }

    @Override
    public void close() {
        release();
    }
}
