package io.reel.store.internal.log;

/**
 * The recently committed batches, kept in memory so that live subscribers and the indexer read new records
 * without touching the files. A ring of {@link CommittedBatch}es bounded by count and by bytes; the writer
 * adds, any thread looks up. A lookup that races with the writer overwriting the slot it reads sees a batch
 * that does not contain the position and returns null: the caller then reads the file.
 */
public final class RecentRecords {
    private final CommittedBatch[] ring;
    private final int mask;
    private final long byteBudget;
    private volatile long published;
    private volatile long oldest;
    /** Positions below this are not served: scavenge removed records from the files this cache mirrors. */
    private volatile long floor;
    private long bytes;

    public RecentRecords(int slots, long byteBudget) {
        int size = Integer.highestOneBit(Math.max(slots, 2) - 1) << 1;
        this.ring = new CommittedBatch[size];
        this.mask = size - 1;
        this.byteBudget = byteBudget;
    }

    /** Writer thread only, after the batch is durable and before the head moves past it. */
    public void add(CommittedBatch batch) {
        if (byteBudget == 0) {
            return;
        }
        long next = published;
        long first = oldest;
        CommittedBatch previous = ring[(int) ((next - 1) & mask)];
        if (previous != null) {
            previous.forget();
        }
        bytes += batch.length;
        while (first < next && (next - first >= ring.length || bytes > byteBudget)) {
            int slot = (int) (first & mask);
            bytes -= ring[slot].length;
            // let go of it: a batch holds its arena, and 8192 slots of batches beyond the budget kept whole arenas
            // alive (1.2 GB live after 8M events of 1000-event appends against a 64 MiB budget)
            ring[slot] = null;
            first++;
        }
        oldest = first;
        ring[(int) (next & mask)] = batch;
        published = next + 1;
    }

    /** Forgets everything, e.g. after a failed write. Writer thread only. */
    void clear() {
        for (long p = oldest; p < published; p++) {
            ring[(int) (p & mask)] = null;
        }
        oldest = published;
        bytes = 0;
    }

    /**
     * Stops serving positions below {@code position} (any thread): scavenge has rewritten the segments that
     * hold them, and a reader must not get from memory a record that the files, and so every other reader, no
     * longer have.
     */
    public synchronized void forgetBelow(long position) {
        if (position > floor) {
            floor = position;
        }
    }

    /** Whether positions at {@code position} may still be served from memory (scavenge has not passed it). */
    boolean serves(long position) {
        return position >= floor;
    }

    /** The batch holding {@code position}, or null when it is not (or no longer) in memory. */
    public CommittedBatch find(long position) {
        if (position < floor) {
            return null;
        }
        long hi = published - 1;
        long lo = oldest;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            CommittedBatch b = ring[(int) (mid & mask)];
            if (b == null) {
                return null;
            }
            if (position < b.firstPosition) {
                hi = mid - 1;
            } else if (position >= b.endPosition()) {
                lo = mid + 1;
            } else {
                return b;
            }
        }
        return null;
    }
}
