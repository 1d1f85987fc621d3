package io.reel.store.internal.log;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One segment file of the log (format in {@link LogFormat}). Positional reads are safe from any thread; only
 * the writer thread writes, and only to the active segment.
 *
 * <p>Reference counted: a reader {@link #retain()}s a segment while it reads, so that scavenge can swap a
 * rewritten file in while the old one is still being read; the channel closes when the segment is retired
 * and the last reader has released it.
 */
public final class Segment {
    private final Path path;
    private final long basePosition;
    private final FileChannel channel;
    /** {@link LogFormat#FORMAT_V1} (one protobuf record per frame) or {@link LogFormat#FORMAT_V2} (one frame per append). */
    private final int formatVersion;
    private final AtomicInteger references = new AtomicInteger(1);
    private volatile OffsetIndex offsetIndex;

    private Segment(Path path, long basePosition, FileChannel channel, int formatVersion) {
        this.path = path;
        this.basePosition = basePosition;
        this.channel = channel;
        this.formatVersion = formatVersion;
    }

    /** How many bytes of zeros preallocation writes between forces. */
    private static final long PREALLOCATE_FORCE_BYTES = 4L << 20;

    /**
     * Creates a segment from a preallocated zero-filled file (moved into place) or, when {@code preallocated}
     * is null, by writing {@code size} bytes of zeros. The header is written and forced before it returns.
     */
    static Segment create(Path dir, long basePosition, long size, Path preallocated) throws IOException {
        Path path = dir.resolve(LogFormat.segmentFileName(basePosition));
        Path source = preallocated != null ? preallocated : preallocate(dir.resolve(path.getFileName() + ".tmp"), size);
        Files.move(source, path, StandardCopyOption.ATOMIC_MOVE);
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ByteBuffer header = ByteBuffer.wrap(header(basePosition, System.currentTimeMillis(), LogFormat.FORMAT_VERSION));
            while (header.hasRemaining()) {
                channel.write(header, header.position());
            }
            channel.force(true);
            Directories.force(dir);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        Segment segment = new Segment(path, basePosition, channel, LogFormat.FORMAT_VERSION);
        segment.offsetIndex = OffsetIndex.empty(basePosition);
        return segment;
    }

    /**
     * Writes {@code size} bytes of zeros to a new file and forces it, so later appends change no metadata. The
     * zeros are forced every {@link #PREALLOCATE_FORCE_BYTES}: one force of a whole segment's worth of dirty
     * pages would queue the writer's own forces behind hundreds of megabytes of write-back.
     */
    static Path preallocate(Path file, long size) throws IOException {
        return preallocate(file, size, () -> Long.MAX_VALUE);
    }

    /**
     * As {@link #preallocate(Path, long)}, paced: before each megabyte it waits (on its own thread, a few
     * milliseconds at a time) until {@code allowed} lets it write that far; a negative {@code allowed} gives up
     * (the file is deleted).
     */
    static Path preallocate(Path file, long size, java.util.function.LongSupplier allowed) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            long unforced = 0;
            for (long p = 0; p < size; ) {
                long limit;
                while (p >= (limit = allowed.getAsLong())) {
                    if (limit < 0) {
                        throw new IOException("preallocation of " + file + " given up");
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
                }
                zeros.clear();
                zeros.limit((int) Math.min(zeros.capacity(), size - p));
                int written = ch.write(zeros, p);
                p += written;
                unforced += written;
                if (unforced >= PREALLOCATE_FORCE_BYTES) {
                    ch.force(false);
                    unforced = 0;
                }
            }
            ch.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        return file;
    }

    public static byte[] header(long basePosition, long createdMillis, int formatVersion) {
        byte[] h = new byte[LogFormat.SEGMENT_HEADER_SIZE];
        Bytes.putLong(h, 0, LogFormat.SEGMENT_MAGIC);
        Bytes.putInt(h, 8, formatVersion);
        Bytes.putLong(h, 16, basePosition);
        Bytes.putLong(h, 24, createdMillis);
        Bytes.putInt(h, LogFormat.HEADER_CRC_OFFSET, Crc.of(h, 0, LogFormat.HEADER_CRC_OFFSET));
        return h;
    }

    /** Opens an existing segment and checks its header against its name. */
    public static Segment open(Path path, boolean writable) throws IOException {
        long nameBase = LogFormat.baseOf(path);
        FileChannel channel = writable
            ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
            : FileChannel.open(path, StandardOpenOption.READ);
        int version;
        try {
            version = checkHeader(path, channel, nameBase);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return new Segment(path, nameBase, channel, version);
    }

    /** Checks the header and returns the segment's format version. */
    static int checkHeader(Path path, FileChannel channel, long expectedBase) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(LogFormat.SEGMENT_HEADER_SIZE);
        while (buf.hasRemaining() && channel.read(buf, buf.position()) > 0) {
            // keep reading until the header is complete or the file ends
        }
        byte[] h = buf.array();
        if (buf.hasRemaining()) {
            throw damaged(path, 0, expectedBase, "the file is shorter than a segment header (" + buf.position() + " bytes)");
        }
        if (Bytes.getLong(h, 0) != LogFormat.SEGMENT_MAGIC) {
            throw damaged(path, 0, expectedBase, "the header does not start with the segment magic 'REELSEGM'");
        }
        if (Bytes.getInt(h, LogFormat.HEADER_CRC_OFFSET) != Crc.of(h, 0, LogFormat.HEADER_CRC_OFFSET)) {
            throw damaged(path, 0, expectedBase, "the header checksum does not match");
        }
        int version = Bytes.getInt(h, 8);
        if (version != LogFormat.FORMAT_V1 && version != LogFormat.FORMAT_V2) {
            throw new ReelException(ErrorCode.CORRUPTED, path + " has segment format version " + version
                + ", this Reel reads versions " + LogFormat.FORMAT_V1 + " and " + LogFormat.FORMAT_V2
                + "; open it with the Reel version that wrote it");
        }
        long base = Bytes.getLong(h, 16);
        if (base != expectedBase) {
            throw damaged(path, 0, expectedBase, "the header says base position " + base + " but the file name says " + expectedBase);
        }
        return version;
    }

    public static ReelException damaged(Path file, long offset, long position, String what) {
        return new ReelException(ErrorCode.CORRUPTED, file + " is damaged at offset " + offset + " (position " + position
            + "): " + what + ". Run 'reel verify' for a full report; 'reel server --repair' quarantines the file and reports what was lost");
    }

    public Path path() {
        return path;
    }

    public long basePosition() {
        return basePosition;
    }

    public int formatVersion() {
        return formatVersion;
    }

    FileChannel channel() {
        return channel;
    }

    public long size() throws IOException {
        return channel.size();
    }

    public OffsetIndex offsetIndex() {
        return offsetIndex;
    }

    public void offsetIndex(OffsetIndex index) {
        offsetIndex = index;
    }

    /** Reads from {@code offset} until {@code dst} is full or the file ends; returns the bytes read. */
    public int read(ByteBuffer dst, long offset) throws IOException {
        int total = 0;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, offset + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    public void write(ByteBuffer src, long offset) throws IOException {
        long p = offset;
        while (src.hasRemaining()) {
            p += channel.write(src, p);
        }
    }

    public void force() throws IOException {
        channel.force(false);
    }

    /** Cuts the preallocated zeros after the data and forces: the segment is sealed and never changes again. */
    void seal(long dataEnd) throws IOException {
        channel.truncate(dataEnd);
        channel.force(true);
    }

    /** Takes a reference for reading; false when the segment has already been closed. */
    public boolean retain() {
        while (true) {
            int n = references.get();
            if (n <= 0) {
                return false;
            }
            if (references.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public void release() {
        if (references.decrementAndGet() == 0) {
            try {
                channel.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public String toString() {
        return path.getFileName().toString();
    }
}
