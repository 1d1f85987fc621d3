package io.reel.store.internal.writer;

import java.util.Arrays;
import java.util.UUID;

/**
 * Where recently written event ids went: a hint table from an id's 64-bit fingerprint to the position it was
 * written at, covering the last {@code capacity} to {@code capacity / 2} ids. The writer confirms every hit
 * by reading the record at that position, so a stale entry (from a write that failed, whose position was
 * later reused) or a fingerprint collision can never make it answer wrongly; the log is the truth.
 *
 * <p>Built for the write path: two generations of an open-addressing table ({@code long} pairs of fingerprint
 * and position, adjacent in memory) and a small bitset per generation in front of them. An insert is one
 * probe; a lookup of an id never written (the common case) is usually answered by the bitset alone. When the
 * current generation is full it becomes the previous one and the oldest is cleared: no per-entry deletion.
 * Writer thread only.
 */
public final class RecentEventIds {
    private final int generationCapacity;
    private final int mask;
    private final int bitMask;
    private long[] current;
    private long[] previous;
    private long[] currentBits;
    private long[] previousBits;
    private int currentCount;

    public RecentEventIds(int capacity) {
        this.generationCapacity = Math.max(1, capacity / 2);
        int slots = Integer.highestOneBit(Math.max(2, generationCapacity) * 2 - 1) << 1;
        this.mask = slots - 1;
        int bits = Math.max(64, Integer.highestOneBit(Math.max(1, generationCapacity * 8) - 1) << 1);
        this.bitMask = bits - 1;
        boolean enabled = capacity > 0;
        this.current = enabled ? new long[slots * 2] : null;
        this.previous = enabled ? new long[slots * 2] : null;
        this.currentBits = enabled ? new long[bits >>> 6] : null;
        this.previousBits = enabled ? new long[bits >>> 6] : null;
    }

    static long fingerprint(UUID id) {
        long h = id.getMostSignificantBits() * 0x9E3779B97F4A7C15L ^ id.getLeastSignificantBits();
        h ^= h >>> 31;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 29;
        return h == 0 ? 1 : h;
    }

    public void add(UUID id, long position) {
        if (current == null) {
            return;
        }
        if (currentCount == generationCapacity) {
            long[] t = previous;
            previous = current;
            current = t;
            Arrays.fill(current, 0);
            long[] b = previousBits;
            previousBits = currentBits;
            currentBits = b;
            Arrays.fill(currentBits, 0);
            currentCount = 0;
        }
        long f = fingerprint(id);
        int bit = (int) (f >>> 20) & bitMask;
        currentBits[bit >>> 6] |= 1L << bit;
        int i = (int) f & mask;
        while (true) {
            long existing = current[i * 2];
            if (existing == 0) {
                current[i * 2] = f;
                current[i * 2 + 1] = position;
                currentCount++;
                return;
            }
            if (existing == f) {
                current[i * 2 + 1] = position;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /** The position the id was last recorded at, or -1. A hint: confirm it against the record there. */
    public long find(UUID id) {
        if (current == null) {
            return -1;
        }
        long f = fingerprint(id);
        int bit = (int) (f >>> 20) & bitMask;
        long word = 1L << bit;
        if ((currentBits[bit >>> 6] & word) != 0) {
            long p = probe(current, f);
            if (p >= 0) {
                return p;
            }
        }
        if ((previousBits[bit >>> 6] & word) != 0) {
            return probe(previous, f);
        }
        return -1;
    }

    private long probe(long[] table, long f) {
        int i = (int) f & mask;
        while (true) {
            long existing = table[i * 2];
            if (existing == 0) {
                return -1;
            }
            if (existing == f) {
                return table[i * 2 + 1];
            }
            i = (i + 1) & mask;
        }
    }
}
