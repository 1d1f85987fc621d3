package io.reel.store;

import java.util.UUID;

/**
 * The writer's memory of the last {@code capacity} event ids it committed, to recognise a retried append:
 * a ring of (id, position, revision, stream) in commit order, and an open-addressing table from id to ring
 * slot. The oldest entry leaves the table when the ring overwrites it (backward-shift deletion keeps the
 * linear probes short). No allocation per event. Writer thread only.
 */
final class RecentEventIds {
    private final int capacity;
    private final long[] idHigh;
    private final long[] idLow;
    private final long[] positions;
    private final long[] revisions;
    private final Object[] streams;
    private final byte[] flags;
    private final int[] table;
    private final int mask;
    private long inserted;

    RecentEventIds(int capacity) {
        this.capacity = capacity;
        int ring = Math.max(capacity, 1);
        idHigh = new long[ring];
        idLow = new long[ring];
        positions = new long[ring];
        revisions = new long[ring];
        streams = new Object[ring];
        flags = new byte[ring];
        int tableSize = Integer.highestOneBit(Math.max(ring, 2) * 2 - 1) << 1;
        table = new int[tableSize];
        mask = tableSize - 1;
    }

    /**
     * A match: the event was committed at this position and revision to this stream, as the first and/or
     * last event of its append.
     */
    record Entry(Object stream, long position, long revision, boolean startsAppend, boolean endsAppend) {
    }

    void add(UUID id, Object stream, long position, long revision, boolean startsAppend, boolean endsAppend) {
        if (capacity == 0) {
            return;
        }
        int slot = (int) (inserted % capacity);
        if (inserted >= capacity) {
            removeFromTable(slot);
        }
        idHigh[slot] = id.getMostSignificantBits();
        idLow[slot] = id.getLeastSignificantBits();
        positions[slot] = position;
        revisions[slot] = revision;
        streams[slot] = stream;
        flags[slot] = (byte) ((startsAppend ? 1 : 0) | (endsAppend ? 2 : 0));
        int i = home(idHigh[slot], idLow[slot]);
        while (table[i] != 0) {
            int other = table[i] - 1;
            if (idHigh[other] == idHigh[slot] && idLow[other] == idLow[slot]) {
                break;
            }
            i = (i + 1) & mask;
        }
        table[i] = slot + 1;
        inserted++;
    }

    Entry find(UUID id) {
        if (capacity == 0) {
            return null;
        }
        long hi = id.getMostSignificantBits();
        long lo = id.getLeastSignificantBits();
        for (int i = home(hi, lo); table[i] != 0; i = (i + 1) & mask) {
            int slot = table[i] - 1;
            if (idHigh[slot] == hi && idLow[slot] == lo) {
                return new Entry(streams[slot], positions[slot], revisions[slot], (flags[slot] & 1) != 0, (flags[slot] & 2) != 0);
            }
        }
        return null;
    }

    private void removeFromTable(int slot) {
        int i = home(idHigh[slot], idLow[slot]);
        while (table[i] != 0 && table[i] != slot + 1) {
            i = (i + 1) & mask;
        }
        if (table[i] == 0) {
            return;
        }
        table[i] = 0;
        for (int j = (i + 1) & mask; table[j] != 0; j = (j + 1) & mask) {
            int moved = table[j] - 1;
            int h = home(idHigh[moved], idLow[moved]);
            boolean between = i <= j ? (i < h && h <= j) : (i < h || h <= j);
            if (!between) {
                table[i] = table[j];
                table[j] = 0;
                i = j;
            }
        }
    }

    private int home(long hi, long lo) {
        long h = (hi ^ (lo * 0x9E3779B97F4A7C15L));
        h ^= h >>> 29;
        return (int) h & mask;
    }
}
