package io.reel.store.internal.log;

import io.reel.store.RecordedEvent;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads the frames of one segment sequentially, in chunks, checking each frame's length and CRC32C.
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
        BAD_CRC
    }

    private final Segment segment;
    private final long endOffset;
    /** The caller knows where the data ends: a zero length word before that is damage, not the end. */
    private final boolean dataEndKnown;
    private final int chunkSize;
    private final boolean freshChunks;

    private byte[] chunk;
    private long chunkFileOffset;
    private int chunkLength;
    private int cursor;

    private long frameOffset;
    private int bodyOffset;
    private int bodyLength;
    private boolean continued;

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
        this.chunk = new byte[0];
        this.chunkFileOffset = startOffset;
    }

    public Status next() throws IOException {
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
        if ((word & LogFormat.RESERVED_FLAG) != 0) {
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

    /** Skips the frame just returned with a bad checksum, to look at the frame after it. */
    void skipBadFrame() {
        cursor = bodyOffset + bodyLength;
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

    boolean continued() {
        return continued;
    }

    /** The file offset of the next frame to read. */
    public long nextOffset() {
        return chunkFileOffset + cursor;
    }

    public RecordedEvent record() {
        return new RecordedEvent(chunk, bodyOffset, bodyLength);
    }
}
