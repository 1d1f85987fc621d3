package io.reel.projection;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.time.Duration;
import java.util.Objects;

/**
 * What a runner does when a handler throws: retry the same event a bounded number of times with exponential
 * backoff, then stop as {@code FAILED} (the default, with no retries) or skip the event. Nothing is ever
 * skipped silently: a skip is logged at WARN, counted in {@link ProjectionStatus#skippedEvents()} and the
 * {@code reel.projection.skipped} meter, and its error stays in {@link ProjectionStatus#error()}.
 *
 * <pre>{@code
 * FailurePolicy.stop()                                        // FAILED at the first error
 * FailurePolicy.retry(5, Duration.ofMillis(100))              // 100, 200, 400, 800, 1600 ms, then FAILED
 * FailurePolicy.retry(3, Duration.ofMillis(50)).thenSkip()    // then skip the event and go on
 * }</pre>
 * Immutable.
 */
public final class FailurePolicy {
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final FailurePolicy STOP = new FailurePolicy(0, Duration.ZERO, false);

    private final int retries;
    private final Duration firstBackoff;
    private final boolean skip;

    private FailurePolicy(int retries, Duration firstBackoff, boolean skip) {
        this.retries = retries;
        this.firstBackoff = firstBackoff;
        this.skip = skip;
    }

    /** Stop at the first failure. */
    public static FailurePolicy stop() {
        return STOP;
    }

    /** Skip a failing event at once (logged and counted). Use with care: the state then misses that event. */
    public static FailurePolicy skip() {
        return new FailurePolicy(0, Duration.ZERO, true);
    }

    /**
     * Retry a failing event up to {@code retries} times, waiting {@code firstBackoff}, then twice as long each
     * time (at most 30 s), then stop. Queries and status keep working during the wait.
     */
    public static FailurePolicy retry(int retries, Duration firstBackoff) {
        if (retries < 0) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "retries is " + retries + "; give 0 or more");
        }
        Objects.requireNonNull(firstBackoff, "firstBackoff");
        if (firstBackoff.isNegative()) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "the retry backoff " + firstBackoff + " is negative");
        }
        return new FailurePolicy(retries, firstBackoff, false);
    }

    /** The same retries, then skip the event instead of stopping. */
    public FailurePolicy thenSkip() {
        return new FailurePolicy(retries, firstBackoff, true);
    }

    public int retries() {
        return retries;
    }

    /** Whether an event that still fails after the retries is skipped (else the projection stops). */
    public boolean skips() {
        return skip;
    }

    /** The wait before retry number {@code attempt} (1-based). */
    Duration backoff(int attempt) {
        Duration d = firstBackoff;
        for (int i = 1; i < attempt && d.compareTo(MAX_BACKOFF) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : d;
    }

    @Override
    public String toString() {
        if (retries == 0) {
            return skip ? "skip" : "stop";
        }
        return "retry(" + retries + ", " + firstBackoff.toMillis() + " ms)" + (skip ? " then skip" : " then stop");
    }
}
