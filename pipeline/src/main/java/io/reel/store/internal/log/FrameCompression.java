package io.reel.store.internal.log;

import io.reel.store.EntryOrigin;
import io.reel.store.EventData;
import java.util.List;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Per-frame compression of format 2 ({@link FrameCodec}), through lz4-java's LZ4 block format: the header stays
 * as it is (so a reader finds positions, stream and count without decompressing), attribute bits 0-2 say 1, and
 * the records follow as {@code u32 uncompressed length · LZ4 block}. The checksum covers the stored (compressed)
 * bytes. A frame that would not shrink is stored uncompressed. Off by default ({@code StoreSettings.compression}).
 *
 * <p>An instance belongs to the writer thread (it keeps a scratch buffer); {@link #decompress} is for any thread.
 */
public final class FrameCompression {
    private static final LZ4Factory LZ4 = LZ4Factory.fastestInstance();
    private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4.safeDecompressor();

    private final LZ4Compressor compressor = LZ4.fastCompressor();
    private byte[] scratch = new byte[0];

    /** The most bytes the frame of these events can take, compressed or not (it usually takes fewer). */
    public static int frameBound(byte[] stream, EntryOrigin origin, List<EventData> events) {
        int raw = FrameCodec.frameSize(stream, origin, events);
        int headerEnd = LogFormat.FRAME_HEADER_SIZE + FrameCodec.headerSize(stream, origin);
        int records = raw - headerEnd;
        return Math.max(raw, headerEnd + 4 + records + records / 255 + 16);
    }

    /**
     * Writes the frame of {@code events} at {@code p} of {@code dst} (room for {@link #frameBound}), its records
     * LZ4-compressed when that makes the frame smaller; returns the offset after it.
     */
    public int encode(byte[] dst, int p, long firstPosition, long firstRevision, long timestampMicros, byte[] stream,
                      EntryOrigin origin, List<EventData> events) {
        int raw = FrameCodec.frameSize(stream, origin, events);
        if (scratch.length < raw) {
            scratch = new byte[Math.max(raw, scratch.length * 2)];
        }
        FrameCodec.encode(scratch, 0, firstPosition, firstRevision, timestampMicros, stream, origin, events);
        int headerEnd = LogFormat.FRAME_HEADER_SIZE + FrameCodec.headerSize(stream, origin);
        int records = raw - headerEnd;
        int out = p + headerEnd + 4;
        int compressed = compressor.compress(scratch, headerEnd, records, dst, out, compressor.maxCompressedLength(records));
        if (4 + compressed >= records) {
            System.arraycopy(scratch, 0, dst, p, raw);
            return p + raw;
        }
        System.arraycopy(scratch, 0, dst, p, headerEnd);
        dst[p + LogFormat.FRAME_HEADER_SIZE] |= (byte) FrameCodec.COMPRESSION_LZ4;
        Bytes.putInt(dst, p + headerEnd, records);
        FrameCodec.seal(dst, p, out + compressed);
        return out + compressed;
    }

    /**
     * The body of a compressed frame (everything after the length and CRC words) as it would be uncompressed:
     * the header without its compression bits, then the records. Throws {@code CORRUPTED} when it does not decompress.
     */
    static byte[] decompress(byte[] buf, int bodyOffset, int bodyLength, int headerLength) {
        if (headerLength + 4 > bodyLength) {
            throw FrameCodec.malformed("a compressed frame shorter than its header");
        }
        int records = Bytes.getInt(buf, bodyOffset + headerLength);
        if (records <= 0 || records > LogFormat.LENGTH_MASK - headerLength) {
            throw FrameCodec.malformed("a compressed frame says its records take " + records + " bytes");
        }
        byte[] body = new byte[headerLength + records];
        System.arraycopy(buf, bodyOffset, body, 0, headerLength);
        body[0] &= (byte) ~FrameCodec.ATTR_COMPRESSION_MASK;
        int from = bodyOffset + headerLength + 4;
        try {
            int n = DECOMPRESSOR.decompress(buf, from, bodyOffset + bodyLength - from, body, headerLength, records);
            if (n != records) {
                throw FrameCodec.malformed("a compressed frame holds " + n + " bytes of records, not " + records);
            }
        } catch (LZ4Exception e) {
            throw FrameCodec.malformed("the records do not decompress: " + e.getMessage());
        }
        return body;
    }
}
