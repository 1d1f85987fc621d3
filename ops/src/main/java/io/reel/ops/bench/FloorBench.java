package io.reel.ops.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The physical floor of this machine, measured in the same run as the workload and on the same file
 * system, exactly as {@code shared/bench/Floor.java} measures it: framed records with CRC32C written to a
 * preallocated file and forced (no encoding, no index), one small forced write at a time, and a CRC-checked
 * scan from the page cache.
 */
final class FloorBench {
    /** Floor figures: durable batched appends, forced single-append latency, CRC-checked scan. */
    record Figures(double appendEventsPerSec, double forceP50Micros, double forceP99Micros, double scanEventsPerSec) {
    }

    private FloorBench() {
    }

    /** Framed appends of {@code batch} records of {@code payload} bytes, one write and one force per batch. */
    static double durableAppend(Path dir, int events, int payload, int batch) throws IOException {
        Path f = dir.resolve("floor.log");
        int frame = 8 + payload;
        byte[] body = new byte[payload];
        Arrays.fill(body, (byte) 7);
        Files.deleteIfExists(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            preallocate(ch, (long) events * frame);
            ByteBuffer buf = ByteBuffer.allocateDirect(frame * batch);
            CRC32C crc = new CRC32C();
            long t0 = System.nanoTime();
            long at = 0;
            for (int i = 0; i < events; i += batch) {
                buf.clear();
                for (int j = 0; j < batch; j++) {
                    crc.reset();
                    crc.update(body);
                    buf.putInt(payload).putInt((int) crc.getValue()).put(body);
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    at += ch.write(buf, at);
                }
                ch.force(false);
            }
            return events / ((System.nanoTime() - t0) / 1e9);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /** p50 and p99 of one small write plus force into a preallocated file, in microseconds. */
    static double[] forceLatency(Path dir, int samples, int payload) throws IOException {
        Path f = dir.resolve("floor.log");
        int frame = 8 + payload;
        Files.deleteIfExists(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            preallocate(ch, (long) samples * frame);
            Latencies lat = new Latencies();
            ByteBuffer one = ByteBuffer.allocateDirect(frame);
            byte[] body = new byte[payload];
            for (int i = 0; i < samples; i++) {
                one.clear();
                one.putInt(payload).putInt(0).put(body).flip();
                long t0 = System.nanoTime();
                ch.write(one, (long) i * frame);
                ch.force(false);
                lat.record(System.nanoTime() - t0);
            }
            return new double[] {lat.p50(), lat.p99()};
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /**
     * One small framed write plus force at a time into a preallocated file, as {@link #forceLatency} does, for a
     * workload that interleaves the floor's force with its own operations so that both see the same disk at the
     * same moment (on a shared disk, two separate runs differ by more than what is being compared). Writes wrap
     * around within the preallocated {@value #FORCE_FILE_BYTES} bytes. Not thread-safe: one caller.
     */
    static final class Forcer implements AutoCloseable {
        private static final int FORCE_FILE_BYTES = 4 << 20;
        private final Path file;
        private final FileChannel channel;
        private final ByteBuffer frame;
        private final int frames;
        private long written;

        Forcer(Path dir, int payload) throws IOException {
            this.file = dir.resolve("floor-force.log");
            Files.deleteIfExists(file);
            this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            preallocate(channel, FORCE_FILE_BYTES);
            this.frame = ByteBuffer.allocateDirect(8 + payload);
            this.frames = FORCE_FILE_BYTES / frame.capacity();
        }

        /** Writes one frame and forces it; returns how long that took, in nanoseconds. */
        long forceOnce() throws IOException {
            frame.clear();
            frame.putInt(frame.capacity() - 8).putInt(0).position(frame.capacity()).flip();
            long at = (written++ % frames) * frame.capacity();
            long t0 = System.nanoTime();
            while (frame.hasRemaining()) {
                at += channel.write(frame, at);
            }
            channel.force(false);
            return System.nanoTime() - t0;
        }

        @Override
        public void close() throws IOException {
            try {
                channel.close();
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }

    /** A CRC-checked scan of framed records from the page cache (best of three). */
    static double scan(Path dir, int events, int payload) throws IOException {
        Path f = dir.resolve("floor.log");
        int frame = 8 + payload;
        byte[] body = new byte[payload];
        Arrays.fill(body, (byte) 7);
        CRC32C c = new CRC32C();
        c.update(body);
        int bodyCrc = (int) c.getValue();
        Files.deleteIfExists(f);
        try {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.allocateDirect(frame * 1000);
                for (int i = 0; i < events; i += 1000) {
                    buf.clear();
                    for (int j = 0; j < 1000; j++) {
                        buf.putInt(payload).putInt(bodyCrc).put(body);
                    }
                    buf.flip();
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                }
            }
            double best = 0;
            for (int rep = 0; rep < 3; rep++) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                    byte[] tmp = new byte[payload];
                    CRC32C crc = new CRC32C();
                    long t0 = System.nanoTime();
                    long count = 0;
                    while (ch.read(buf) > 0) {
                        buf.flip();
                        while (buf.remaining() >= 8) {
                            int len = buf.getInt(buf.position());
                            if (buf.remaining() < 8 + len) {
                                break;
                            }
                            buf.getInt();
                            int want = buf.getInt();
                            buf.get(tmp, 0, len);
                            crc.reset();
                            crc.update(tmp, 0, len);
                            if ((int) crc.getValue() != want) {
                                throw new IllegalStateException("crc");
                            }
                            count++;
                        }
                        buf.compact();
                    }
                    best = Math.max(best, count / ((System.nanoTime() - t0) / 1e9));
                }
            }
            return best;
        } finally {
            Files.deleteIfExists(f);
        }
    }

    private static void preallocate(FileChannel ch, long size) throws IOException {
        ByteBuffer z = ByteBuffer.allocateDirect(1 << 20);
        for (long p = 0; p < size; p += z.capacity()) {
            z.clear();
            ch.write(z, p);
        }
        ch.force(true);
    }
}
