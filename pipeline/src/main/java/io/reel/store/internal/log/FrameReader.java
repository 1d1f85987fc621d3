package io.reel.store.internal.log;

import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads the frames of one segment sequentially, in chunks, checking each frame's length and CRC32C.
 *
 * <p>Record by record, whatever the segment's format: in a format-2 segment ({@link FrameCodec}) a frame holds
 * a whole append, and {@link #next()} returns {@code FRAME} once for each of its records, all with the frame's
 * {@link #frameOffset()} and {@link #frameEnd()}; {@link #continued()} is true for all but the last, as for the
 * frames of an append in format 1.
 *
 * <p>Reads never go past {@code endOffset}: for the active segment that is the end of the data below the head,
 * so a reader never sees a frame the writer is still writing. With {@code freshChunks} every refill reads into
 * a new array, so that records handed out as views over a chunk stay valid after the reader moves on.
 *
 * <p>Not thread-safe: one reader per thread of use.
 */
public final class FrameReader {
    public enum Status {
        /** A whole frame with a good checksum: see {@link #frameOffset()}, {@link #bodyOffset()}, {@link #bodyLength()}. */
        FRAME,
        /** The end of written data: {@code endOffset} reached at a frame boundary, or a zero length word when scanning to the end of the file. */
        END,
        /** The length word is malformed (reserved bit set, or zero where data is known to continue). */
        BAD_LENGTH,
        /** The frame runs past the end of the data. */
        TRUNCATED,
        /** The body does not match its checksum. */
        BAD_CRC,
        /** A format-2 frame with a good checksum whose records do not decode. */
        BAD_RECORD
    }

    private final Segment segment;
    private final long endOffset;
    /** The caller knows where the data ends: a zero length word before that is damage, not the end. */
    private final boolean dataEndKnown;
    private final int chunkSize;
    private final boolean freshChunks;
    private final boolean framePerAppend;

    private byte[] chunk;
    private long chunkFileOffset;
    private int chunkLength;
    private int cursor;

    private long frameOffset;
    private int bodyOffset;
    private int bodyLength;
    private boolean continued;
    /** The records of the current format-2 frame, and which of them {@link #record()} returns. */
    private FrameCodec.Decoded decoded;
    private int recordIndex;

    /**
     * Reads frames from {@code startOffset} up to {@code endOffset}, where the caller knows the data ends (the
     * head, or a sealed segment's size): a zero length word before it is then damage. With
     * {@code Long.MAX_VALUE} it scans to the end of the file and a zero length word ends the data, as in the
     * preallocated tail of the active segment; a damaged length word can never make it allocate for a frame
     * the file cannot hold.
     */
    public FrameReader(Segment segment, long startOffset, long endOffset, int chunkSize, boolean freshChunks) throws IOException {
        this.segment = segment;
        this.dataEndKnown = endOffset != Long.MAX_VALUE;
        this.endOffset = dataEndKnown ? endOffset : segment.size();
        this.chunkSize = chunkSize;
        this.freshChunks = freshChunks;
        this.framePerAppend = segment.formatVersion() >= LogFormat.FORMAT_V2;
        this.chunk = new byte[0];
        this.chunkFileOffset = startOffset;
    }

    public Status next() throws IOException {
        if (decoded != null) {
            if (++recordIndex < decoded.count()) {
                continued = recordIndex < decoded.count() - 1;
                return Status.FRAME;
            }
            decoded = null;
        }
        frameOffset = chunkFileOffset + cursor;
        if (frameOffset >= endOffset) {
            return Status.END;
        }
        if (frameOffset + LogFormat.FRAME_HEADER_SIZE > endOffset) {
            return available(LogFormat.FRAME_HEADER_SIZE) && Bytes.getInt(chunk, cursor) == 0 ? Status.END : Status.TRUNCATED;
        }
        if (!available(LogFormat.FRAME_HEADER_SIZE)) {
            // A file that ends exactly at a frame boundary (a segment cut at its data end, like the active segment
            // of a backup) has ended its data; only a partial frame header is a torn frame.
            return chunkLength == cursor ? Status.END : Status.TRUNCATED;
        }
        int word = Bytes.getInt(chunk, cursor);
        if (word == 0) {
            return dataEndKnown ? Status.BAD_LENGTH : Status.END;
        }
        if ((word & LogFormat.RESERVED_FLAG) != 0 || (framePerAppend && (word & LogFormat.CONTINUED_FLAG) != 0)) {
            return Status.BAD_LENGTH;
        }
        int length = word & LogFormat.LENGTH_MASK;
        if (length == 0) {
            return Status.BAD_LENGTH;
        }
        if (frameOffset + LogFormat.FRAME_HEADER_SIZE + length > endOffset) {
            return Status.TRUNCATED;
        }
        if (!available(LogFormat.FRAME_HEADER_SIZE + length)) {
            return Status.TRUNCATED;
        }
        int storedCrc = Bytes.getInt(chunk, cursor + 4);
        bodyOffset = cursor + LogFormat.FRAME_HEADER_SIZE;
        bodyLength = length;
        continued = (word & LogFormat.CONTINUED_FLAG) != 0;
        if (Crc.of(chunk, bodyOffset, length) != storedCrc) {
            return Status.BAD_CRC;
        }
        if (framePerAppend) {
            try {
                decoded = FrameCodec.decode(chunk, bodyOffset, length);
            } catch (ReelException e) {
                return Status.BAD_RECORD;
            }
            recordIndex = 0;
            continued = decoded.count() > 1;
        }
        cursor = bodyOffset + length;
        return Status.FRAME;
    }

    /** Makes {@code bytes} bytes from the cursor available in the chunk; false when the file ends first. */
    private boolean available(int bytes) throws IOException {
        if (chunkLength - cursor >= bytes) {
            return true;
        }
        int remaining = chunkLength - cursor;
        long wanted = Math.min(Math.max(chunkSize, bytes), endOffset - (chunkFileOffset + cursor));
        int size = (int) Math.max(wanted, bytes);
        byte[] target = freshChunks || chunk.length < size ? new byte[size] : chunk;
        System.arraycopy(chunk, cursor, target, 0, remaining);
        chunkFileOffset += cursor;
        chunk = target;
        cursor = 0;
        int read = segment.read(ByteBuffer.wrap(chunk, remaining, (int) Math.min(size, endOffset - chunkFileOffset) - remaining),
            chunkFileOffset + remaining);
        chunkLength = remaining + read;
        return chunkLength >= bytes;
    }

    /**
     * Format 2, between frames: moves past the frames that cannot hold {@code position} (the frame after them
     * starts at or below it), by their length words and headers alone, without checking or decoding them, so a
     * read of one position costs one checked frame. Stops at anything it cannot vouch for (a malformed
     * length, data not in the chunk), where {@link #next()} then checks as usual.
     */
    public void skipFramesBefore(long position) throws IOException {
        if (!framePerAppend || decoded != null) {
            return;
        }
        while (true) {
            long at = chunkFileOffset + cursor;
            if (at + LogFormat.FRAME_HEADER_SIZE > endOffset || !available(LogFormat.FRAME_HEADER_SIZE)) {
                return;
            }
            int length = Bytes.getInt(chunk, cursor);
            if (length <= 0 || (length & ~LogFormat.LENGTH_MASK) != 0) {
                return;
            }
            int next = LogFormat.FRAME_HEADER_SIZE + length;
            if (at + next + LogFormat.FRAME_HEADER_SIZE > endOffset || !available(next + LogFormat.FRAME_HEADER_SIZE)) {
                return;
            }
            int nextLength = Bytes.getInt(chunk, cursor + next);
            if (nextLength <= 0 || (nextLength & ~LogFormat.LENGTH_MASK) != 0 || at + next + LogFormat.FRAME_HEADER_SIZE + nextLength > endOffset
                || !available(next + LogFormat.FRAME_HEADER_SIZE + nextLength)) {
                return;
            }
            long nextFirst;
            try {
                nextFirst = FrameCodec.firstPositionOf(chunk, cursor + next + LogFormat.FRAME_HEADER_SIZE, nextLength);
            } catch (ReelException e) {
                return;
            }
            if (nextFirst > position) {
                return;
            }
            cursor += next;
        }
    }

    /** Skips the frame just returned with a bad checksum, to look at the frame after it. */
    void skipBadFrame() {
        cursor = bodyOffset + bodyLength;
        decoded = null;
    }

    Segment segment() {
        return segment;
    }

    byte[] chunk() {
        return chunk;
    }

    public long frameOffset() {
        return frameOffset;
    }

    public long frameEnd() {
        return frameOffset + LogFormat.FRAME_HEADER_SIZE + bodyLength;
    }

    int bodyOffset() {
        return bodyOffset;
    }

    int bodyLength() {
        return bodyLength;
    }

    public boolean continued() {
        return continued;
    }

    /** The file offset of the next frame to read. */
    public long nextOffset() {
        return chunkFileOffset + cursor;
    }

    /** The position of the record {@link #next()} returned, without decoding the rest of it in format 2. */
    public long position() {
        return decoded != null ? decoded.position(recordIndex) : record().position();
    }

    public RecordedEvent record() {
        return decoded != null ? decoded.record(recordIndex) : RecordedEvent.fromEncoded(chunk, bodyOffset, bodyLength);
    }
}
