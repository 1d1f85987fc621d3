package io.reel.store.internal.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The last point of the log known to be on disk, written lazily beside it ({@code log/durable.chk}); it is
 * how recovery tells a torn tail (past this point: cut it) from damage to acknowledged data (before it:
 * a loud error). The writer records it after each force without forcing it again, and forces the file at
 * most once a second and on roll and close; after a power loss it may lag, never lead.
 *
 * <pre>
 * Two slots, at offsets 0 and 512, written alternately so a torn write leaves the other one intact:
 *  0            8                 16                24                32          36
 *  +------------+-----------------+-----------------+-----------------+-----------+
 *  | sequence   | durable position| segment base    | segment offset  | CRC32C    |
 *  +------------+-----------------+-----------------+-----------------+-----------+
 * The valid slot with the higher sequence wins.
 * </pre>
 */
public final class DurablePoint implements AutoCloseable {
    public static final String FILE_NAME = "durable.chk";
    private static final int SLOT_SIZE = 36;
    private static final int SLOT_STRIDE = 512;
    private static final long FORCE_INTERVAL_NANOS = 1_000_000_000L;

    /** A durable point: every record below {@code position} is on disk, ending at {@code offset} of segment {@code segmentBase}. */
    public record Point(long position, long segmentBase, long offset) {
        static final Point NONE = new Point(0, 0, LogFormat.SEGMENT_HEADER_SIZE);
    }

    private final FileChannel channel;
    private final ByteBuffer slot = ByteBuffer.allocate(SLOT_SIZE);
    private long sequence;
    private long lastForceNanos;
    private boolean unforced;

    private DurablePoint(FileChannel channel, long sequence) {
        this.channel = channel;
        this.sequence = sequence;
    }

    public static DurablePoint open(Path logDir) throws IOException {
        FileChannel ch = FileChannel.open(logDir.resolve(FILE_NAME), StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        long[] best = readBest(ch);
        return new DurablePoint(ch, best == null ? 0 : best[0]);
    }

    /** The recorded point, or null when the file is missing or neither slot is valid. */
    public static Point read(Path logDir) throws IOException {
        Path file = logDir.resolve(FILE_NAME);
        if (!file.toFile().exists()) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long[] best = readBest(ch);
            return best == null ? null : new Point(best[1], best[2], best[3]);
        }
    }

    private static long[] readBest(FileChannel ch) throws IOException {
        long[] best = null;
        for (int i = 0; i < 2; i++) {
            ByteBuffer b = ByteBuffer.allocate(SLOT_SIZE);
            while (b.hasRemaining() && ch.read(b, (long) i * SLOT_STRIDE + b.position()) > 0) {
                // keep reading the slot
            }
            if (b.hasRemaining()) {
                continue;
            }
            byte[] a = b.array();
            if (Bytes.getInt(a, 32) != Crc.of(a, 0, 32) || Bytes.getLong(a, 0) == 0) {
                continue;
            }
            long seq = Bytes.getLong(a, 0);
            if (best == null || seq > best[0]) {
                best = new long[] {seq, Bytes.getLong(a, 8), Bytes.getLong(a, 16), Bytes.getLong(a, 24)};
            }
        }
        return best;
    }

    /** Records a new durable point; forces the file when {@code force} or a second has passed. Writer thread. */
    public void record(long position, long segmentBase, long offset, boolean force) throws IOException {
        sequence++;
        byte[] a = slot.array();
        Bytes.putLong(a, 0, sequence);
        Bytes.putLong(a, 8, position);
        Bytes.putLong(a, 16, segmentBase);
        Bytes.putLong(a, 24, offset);
        Bytes.putInt(a, 32, Crc.of(a, 0, 32));
        slot.clear();
        long at = (sequence & 1) * SLOT_STRIDE;
        while (slot.hasRemaining()) {
            channel.write(slot, at + slot.position());
        }
        unforced = true;
        long now = System.nanoTime();
        if (force || now - lastForceNanos >= FORCE_INTERVAL_NANOS) {
            forceNow(now);
        }
    }

    /** Forces a recorded point that has not been forced yet; cheap when there is none. */
    public void forceIfDue() throws IOException {
        long now = System.nanoTime();
        if (unforced && now - lastForceNanos >= FORCE_INTERVAL_NANOS) {
            forceNow(now);
        }
    }

    private void forceNow(long now) throws IOException {
        channel.force(false);
        lastForceNanos = now;
        unforced = false;
    }

    @Override
    public void close() throws IOException {
        if (unforced) {
            channel.force(false);
        }
        channel.close();
    }
}
