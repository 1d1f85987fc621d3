package io.reel.store.internal.writer;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * Where the writer encodes its batches: large byte arrays filled one batch after the other. The recent-records
 * cache keeps the batches alive for a while; as ordinary young objects they would be copied from survivor
 * space to survivor space at every young collection until they tenure (measured: close to a second of G1
 * pauses per 3M appended events). An arena is at least one G1 region, which makes it a humongous object:
 * allocated straight in the old generation, never copied, and reclaimed eagerly once nothing refers to it.
 * At least 32 MiB: G1 may start a concurrent marking cycle at each humongous allocation, and 4 MiB arenas at
 * 60 MB/s of appends started one every ~115 ms (208 in 24 s; G1's marking threads then took ~40% of a core and
 * its pause workers 15% on a 2-core machine); 32 MiB arenas start a quarter as many, and durable 1000-event
 * appends went 13–25% faster (BENCHMARKS.md). The cost is up to one arena held beyond the recent-records budget.
 * Writer thread only.
 */
final class BatchArena {
    static final int ARENA_BYTES = arenaBytes();

    private byte[] current = new byte[0];
    private int used;
    private int start;
    private int reserved;

    /** Room for {@code bytes} in the current arena, or a new one; returns the array to encode into at {@link #start()}. */
    byte[] reserve(int bytes) {
        if (current.length - used < bytes) {
            current = new byte[Math.max(ARENA_BYTES, bytes)];
            used = 0;
        }
        start = used;
        reserved = bytes;
        return current;
    }

    int start() {
        return start;
    }

    int reserved() {
        return reserved;
    }

    /** The reserved bytes were written and belong to a committed batch now; a failed batch's room is reused. */
    void commit(int bytes) {
        used = start + bytes;
    }

    private static int arenaBytes() {
        int floor = 32 << 20;
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            long region = Long.parseLong(hotspot.getVMOption("G1HeapRegionSize").getValue());
            return (int) Math.min(64 << 20, Math.max(floor, region));
        } catch (RuntimeException | LinkageError e) {
            return floor;
        }
    }
}
