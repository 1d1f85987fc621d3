package io.reel.store;

import java.time.Duration;

/**
 * Settings of one stream that decide which of its events can still be read. Reads honour them at once;
 * {@code scavenge} later reclaims the bytes of events no read can return. Positions of surviving events never change.
 *
 * @param maxCount       keep only the last {@code maxCount} events (0: no limit)
 * @param maxAge         hide events older than this (null: no limit)
 * @param truncateBefore hide events with a revision below this (0: none)
 * @param softDeleted    the stream reads as empty; a later append continues it from the next revision
 * @param hardDeleted    the stream is gone for good: reads and writes fail with {@code STREAM_DELETED}
 */
public record StreamMetadata(long maxCount, Duration maxAge, long truncateBefore, boolean softDeleted, boolean hardDeleted) {
    public static final StreamMetadata NONE = new StreamMetadata(0, null, 0, false, false);

    public StreamMetadata {
        if (maxCount < 0) {
            throw ReelException.invalidArgument("max_count " + maxCount + " is negative; use 0 for no limit");
        }
        if (truncateBefore < 0) {
            throw ReelException.invalidArgument("truncate_before " + truncateBefore + " is negative; use 0 for none");
        }
        if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
            maxAge = null;
        }
    }

    public StreamMetadata withMaxCount(long count) {
        return new StreamMetadata(count, maxAge, truncateBefore, softDeleted, hardDeleted);
    }

    public StreamMetadata withMaxAge(Duration age) {
        return new StreamMetadata(maxCount, age, truncateBefore, softDeleted, hardDeleted);
    }

    public StreamMetadata withTruncateBefore(long revision) {
        return new StreamMetadata(maxCount, maxAge, revision, softDeleted, hardDeleted);
    }

    /** The store marks deletions itself (deleteStream); internals build the record with its constructor. */
    StreamMetadata withSoftDeleted(boolean value) {
        return new StreamMetadata(maxCount, maxAge, truncateBefore, value, hardDeleted);
    }

    StreamMetadata withHardDeleted(boolean value) {
        return new StreamMetadata(maxCount, maxAge, truncateBefore, softDeleted, value);
    }
}
