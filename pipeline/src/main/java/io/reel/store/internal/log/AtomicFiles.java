package io.reel.store.internal.log;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Small files replaced atomically: write a temporary file, force it, rename it over the old one, force the
 * directory. A reader sees the old file or the new one, never a mix, even across a power loss.
 *
 * <p>{@link #write} and {@link #read} add a self-verifying envelope, so a damaged file is reported and
 * ignored instead of trusted:
 * <pre>
 *  0             8          12             16
 *  +-------------+----------+--------------+----------------+-------------------------+
 *  | magic (u64) | version  | payload size | payload        | CRC32C of all before it |
 *  +-------------+----------+--------------+----------------+-------------------------+
 * </pre>
 */
public final class AtomicFiles {
    private static final int ENVELOPE_HEADER = 16;

    private AtomicFiles() {
    }

    public static void write(Path file, long magic, int version, byte[] payload) throws IOException {
        byte[] b = new byte[ENVELOPE_HEADER + payload.length + 4];
        Bytes.putLong(b, 0, magic);
        Bytes.putInt(b, 8, version);
        Bytes.putInt(b, 12, payload.length);
        System.arraycopy(payload, 0, b, ENVELOPE_HEADER, payload.length);
        Bytes.putInt(b, b.length - 4, Crc.of(b, 0, b.length - 4));
        writeRaw(file, b);
    }

    /**
     * The payload of a file written by {@link #write}, or null when the file does not exist.
     *
     * @throws ReelException {@code CORRUPTED} when the file exists but fails its checks, naming what is wrong
     */
    public static byte[] read(Path file, long magic, int version) throws IOException {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
        if (b.length < ENVELOPE_HEADER + 4 || Bytes.getLong(b, 0) != magic) {
            throw new ReelException(ErrorCode.CORRUPTED, file + " is not a file of this kind (wrong magic or too short)");
        }
        int v = Bytes.getInt(b, 8);
        if (v != version) {
            throw new ReelException(ErrorCode.CORRUPTED, file + " has version " + v + ", expected " + version);
        }
        int length = Bytes.getInt(b, 12);
        if (length < 0 || length != b.length - ENVELOPE_HEADER - 4) {
            throw new ReelException(ErrorCode.CORRUPTED, file + " is truncated (payload size " + length + ", file " + b.length + " bytes)");
        }
        if (Bytes.getInt(b, b.length - 4) != Crc.of(b, 0, b.length - 4)) {
            throw new ReelException(ErrorCode.CORRUPTED, file + " fails its checksum");
        }
        byte[] payload = new byte[length];
        System.arraycopy(b, ENVELOPE_HEADER, payload, 0, length);
        return payload;
    }

    /**
     * Each call writes its own temporary file (a unique name ending in {@code .tmp}, which recovery removes):
     * two threads may replace the same file at once (a segment's offset index is written by the roll's
     * background task, by a reader that rebuilt it and by scavenge), and with one shared temporary name one
     * rename failed and the other could move a file the first was still writing. The last rename wins.
     */
    static void writeRaw(Path file, byte[] content) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), file.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Directories.force(file.getParent());
    }
}
