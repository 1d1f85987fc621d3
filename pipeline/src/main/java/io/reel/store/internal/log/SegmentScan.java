package io.reel.store.internal.log;

import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One pass over a segment's frames, checking every length, checksum and position, as recovery, verify and
 * repair need it. Appends are kept whole: the frames of an append count only once its last frame (the one
 * without the continued flag) has been read.
 */
public final class SegmentScan {
    /** Something wrong at a file offset; {@code position} is the position expected there. */
    public record Problem(long offset, long position, String what) {
    }

    /** A whole frame that was kept: where it is and what it holds. */
    record Frame(long offset, long end, long position, long timestampMicros) {
    }

    final Segment segment;
    public final List<Problem> problems = new ArrayList<>();
    final List<Frame> kept = new ArrayList<>();
    final OffsetIndex index;
    public long records;
    public long dataEnd = LogFormat.SEGMENT_HEADER_SIZE;
    public long nextPosition;
    long lastTimestampMicros;
    /** Frames of an append whose last frame never came (dropped, counted in problems). */
    long droppedFrames;

    private SegmentScan(Segment segment) {
        this.segment = segment;
        this.index = OffsetIndex.empty(segment.basePosition());
        this.nextPosition = segment.basePosition();
    }

    /**
     * Scans up to {@code endOffset}. Without {@code resync} it stops at the first problem; with it, it
     * looks for the next good frame after damage and goes on (repair and verify), and keeps the frames it
     * accepts in {@link #kept} when {@code keepFrames}.
     */
    public static SegmentScan scan(Segment segment, long endOffset, long upperBound, boolean resync, boolean keepFrames) throws IOException {
        SegmentScan scan = new SegmentScan(segment);
        long offset = LogFormat.SEGMENT_HEADER_SIZE;
        boolean atAppendBoundary = true;
        while (true) {
            long resumeAt = scan.scanFrom(offset, endOffset, upperBound, keepFrames, atAppendBoundary);
            atAppendBoundary = false;
            if (resumeAt < 0 || !resync) {
                return scan;
            }
            offset = scan.resynchronise(resumeAt, endOffset, upperBound);
            if (offset < 0) {
                return scan;
            }
        }
    }

    /**
     * Scans frames from {@code offset}; returns -1 at the end of data, or the offset to resynchronise from.
     * After a resynchronisation the scan may have landed inside an append whose head was damaged: it drops
     * frames up to the end of that append, so that no append survives in part.
     */
    private long scanFrom(long offset, long endOffset, long upperBound, boolean keepFrames, boolean atAppendBoundary) throws IOException {
        FrameReader reader = new FrameReader(segment, offset, endOffset, 1 << 20, false);
        List<Frame> pending = new ArrayList<>();
        boolean dropping = !atAppendBoundary;
        while (true) {
            FrameReader.Status status = reader.next();
            if (status == FrameReader.Status.FRAME) {
                RecordedEvent record;
                try {
                    record = reader.record();
                } catch (ReelException e) {
                    return problem(reader, pending, "the record does not decode");
                }
                long position = record.position();
                if (position < nextPosition || position >= upperBound) {
                    return problem(reader, pending, "position " + position + " is out of order (expected "
                        + nextPosition + (upperBound == Long.MAX_VALUE ? " or later" : " to " + (upperBound - 1)) + ")");
                }
                nextPosition = position + 1;
                if (dropping) {
                    droppedFrames++;
                    dropping = reader.continued();
                    continue;
                }
                pending.add(new Frame(reader.frameOffset(), reader.frameEnd(), position, record.timestampMicros()));
                if (!reader.continued()) {
                    for (Frame f : pending) {
                        index.onFrame(f.position, f.offset, f.end, f.timestampMicros);
                        if (keepFrames) {
                            kept.add(f);
                        }
                    }
                    records += pending.size();
                    dataEnd = reader.frameEnd();
                    lastTimestampMicros = record.timestampMicros();
                    pending.clear();
                }
                continue;
            }
            if (status == FrameReader.Status.END) {
                if (!pending.isEmpty()) {
                    droppedFrames += pending.size();
                    problems.add(new Problem(pending.get(0).offset, pending.get(0).position,
                        "an append of which only " + pending.size() + " frame(s) reached the disk"));
                    nextPosition = pending.get(0).position;
                }
                return -1;
            }
            String what = switch (status) {
                case BAD_LENGTH -> "the frame's length word is malformed";
                case TRUNCATED -> "the frame runs past the end of the data";
                case BAD_RECORD -> "the frame's checksum matches but its records do not decode";
                default -> "the frame's checksum does not match its body";
            };
            return problem(reader, pending, what);
        }
    }

    private long problem(FrameReader reader, List<Frame> pending, String what) {
        long expected = pending.isEmpty() ? nextPosition : pending.get(0).position;
        if (!pending.isEmpty()) {
            droppedFrames += pending.size();
            nextPosition = pending.get(0).position;
        }
        problems.add(new Problem(reader.frameOffset(), expected, what));
        return reader.frameOffset() + 1;
    }

    /** The offset of the next frame after {@code from} that has a good checksum and a later position; -1 if none. */
    private long resynchronise(long from, long endOffset, long upperBound) throws IOException {
        long size = Math.min(endOffset, segment.size());
        ByteBuffer window = ByteBuffer.allocate(1 << 20);
        long base = from;
        while (base + LogFormat.FRAME_HEADER_SIZE <= size) {
            window.clear();
            int read = segment.read(window, base);
            byte[] b = window.array();
            int last = read - LogFormat.FRAME_HEADER_SIZE;
            for (int i = 0; i <= last; i++) {
                int word = Bytes.getInt(b, i);
                int length = word & LogFormat.LENGTH_MASK;
                if (word == 0 || (word & LogFormat.RESERVED_FLAG) != 0 || length == 0
                    || base + i + LogFormat.FRAME_HEADER_SIZE + length > size) {
                    continue;
                }
                byte[] frame = b;
                int at = i;
                if (i + LogFormat.FRAME_HEADER_SIZE + length > read) {
                    ByteBuffer whole = ByteBuffer.allocate(LogFormat.FRAME_HEADER_SIZE + length);
                    segment.read(whole, base + i);
                    frame = whole.array();
                    at = 0;
                }
                if (goodFrame(frame, at, length, upperBound)) {
                    return base + i;
                }
            }
            if (last < 0) {
                return -1;
            }
            base += last + 1;
        }
        return -1;
    }

    private boolean goodFrame(byte[] b, int at, int length, long upperBound) {
        if (Bytes.getInt(b, at + 4) != Crc.of(b, at + LogFormat.FRAME_HEADER_SIZE, length)) {
            return false;
        }
        try {
            long position = segment.formatVersion() >= LogFormat.FORMAT_V2
                ? FrameCodec.decode(b, at + LogFormat.FRAME_HEADER_SIZE, length).position(0)
                : RecordedEvent.fromEncoded(b, at + LogFormat.FRAME_HEADER_SIZE, length).position();
            return position >= nextPosition && position < upperBound;
        } catch (ReelException e) {
            return false;
        }
    }
}
