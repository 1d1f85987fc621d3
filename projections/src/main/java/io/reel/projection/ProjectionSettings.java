package io.reel.projection;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link ProjectionRunner} runs: when it saves, how far it reads ahead, what it does on failures.
 * Immutable; each method returns a copy with one setting changed and rejects a bad value at once with
 * {@code INVALID_ARGUMENT}.
 *
 * <pre>{@code
 * ProjectionSettings.defaults().saveEvery(1000).saveInterval(Duration.ofMillis(200))
 *     .failurePolicy(FailurePolicy.retry(3, Duration.ofMillis(100)))
 * }</pre>
 */
public final class ProjectionSettings {
    private static final ProjectionSettings DEFAULTS = new ProjectionSettings(10_000, Duration.ofSeconds(1), 512, 1024,
        FailurePolicy.stop(), Duration.ofMillis(200), Duration.ofSeconds(10), Duration.ofSeconds(1), Clock.systemUTC());

    private final long saveEvery;
    private final Duration saveInterval;
    private final int window;
    private final int checkpointInterval;
    private final FailurePolicy failurePolicy;
    private final Duration resubscribeMin;
    private final Duration resubscribeMax;
    private final Duration lagRefreshInterval;
    private final Clock clock;

    private ProjectionSettings(long saveEvery, Duration saveInterval, int window, int checkpointInterval, FailurePolicy failurePolicy,
                               Duration resubscribeMin, Duration resubscribeMax, Duration lagRefreshInterval, Clock clock) {
        this.saveEvery = saveEvery;
        this.saveInterval = saveInterval;
        this.window = window;
        this.checkpointInterval = checkpointInterval;
        this.failurePolicy = failurePolicy;
        this.resubscribeMin = resubscribeMin;
        this.resubscribeMax = resubscribeMax;
        this.lagRefreshInterval = lagRefreshInterval;
        this.clock = clock;
    }

    /**
     * Save every 10,000 events or every second (whichever comes first), read 512 messages ahead, a
     * checkpoint message every 1024 records a filter passes over, stop on the first handler failure,
     * resubscribe after a source error in 200 ms growing to 10 s, refresh lag every second.
     */
    public static ProjectionSettings defaults() {
        return DEFAULTS;
    }

    /** Save state and checkpoint after this many applied events (and every {@link #saveInterval()}). */
    public ProjectionSettings saveEvery(long events) {
        positive("saveEvery", events);
        return new ProjectionSettings(events, saveInterval, window, checkpointInterval, failurePolicy, resubscribeMin, resubscribeMax,
            lagRefreshInterval, clock);
    }

    /** Save state and checkpoint at least this often while the position moves (and at shutdown). */
    public ProjectionSettings saveInterval(Duration interval) {
        positive("saveInterval", interval);
        return new ProjectionSettings(saveEvery, interval, window, checkpointInterval, failurePolicy, resubscribeMin, resubscribeMax,
            lagRefreshInterval, clock);
    }

    /**
     * Subscription messages requested ahead of the handlers (at least 2): the runner holds at most this many
     * in memory and asks for more as it applies them.
     */
    public ProjectionSettings window(int messages) {
        if (messages < 2) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "window is " + messages + "; give 2 or more");
        }
        return new ProjectionSettings(saveEvery, saveInterval, messages, checkpointInterval, failurePolicy, resubscribeMin, resubscribeMax,
            lagRefreshInterval, clock);
    }

    /**
     * For a filtered projection: records the subscription scans without a match before it sends a checkpoint
     * message, which moves the projection's position (and lag) over records it does not handle.
     */
    public ProjectionSettings checkpointInterval(int records) {
        positive("checkpointInterval", records);
        return new ProjectionSettings(saveEvery, saveInterval, window, records, failurePolicy, resubscribeMin, resubscribeMax,
            lagRefreshInterval, clock);
    }

    public ProjectionSettings failurePolicy(FailurePolicy policy) {
        return new ProjectionSettings(saveEvery, saveInterval, window, checkpointInterval, Objects.requireNonNull(policy, "failurePolicy"),
            resubscribeMin, resubscribeMax, lagRefreshInterval, clock);
    }

    /**
     * Backoff before resubscribing after the source failed (a lost connection, a restarting server): from
     * {@code min}, doubling up to {@code max}, forever; the status says why meanwhile.
     */
    public ProjectionSettings resubscribeBackoff(Duration min, Duration max) {
        positive("resubscribe min", min);
        positive("resubscribe max", max);
        if (max.compareTo(min) < 0) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "resubscribe max " + max + " is below min " + min);
        }
        return new ProjectionSettings(saveEvery, saveInterval, window, checkpointInterval, failurePolicy, min, max, lagRefreshInterval, clock);
    }

    /** How often the runner asks the source for its head to compute lag. */
    public ProjectionSettings lagRefreshInterval(Duration interval) {
        positive("lagRefreshInterval", interval);
        return new ProjectionSettings(saveEvery, saveInterval, window, checkpointInterval, failurePolicy, resubscribeMin, resubscribeMax,
            interval, clock);
    }

    /** The clock lag in seconds is measured with. */
    public ProjectionSettings clock(Clock newClock) {
        return new ProjectionSettings(saveEvery, saveInterval, window, checkpointInterval, failurePolicy, resubscribeMin, resubscribeMax,
            lagRefreshInterval, Objects.requireNonNull(newClock, "clock"));
    }

    public long saveEvery() {
        return saveEvery;
    }

    public Duration saveInterval() {
        return saveInterval;
    }

    public int window() {
        return window;
    }

    public int checkpointInterval() {
        return checkpointInterval;
    }

    public FailurePolicy failurePolicy() {
        return failurePolicy;
    }

    public Duration resubscribeMin() {
        return resubscribeMin;
    }

    public Duration resubscribeMax() {
        return resubscribeMax;
    }

    public Duration lagRefreshInterval() {
        return lagRefreshInterval;
    }

    public Clock clock() {
        return clock;
    }

    private static void positive(String field, long value) {
        if (value <= 0) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, field + " is " + value + "; it must be positive");
        }
    }

    private static void positive(String field, Duration value) {
        Objects.requireNonNull(value, field);
        if (value.isNegative() || value.isZero()) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, field + " is " + value + "; it must be positive");
        }
    }

    @Override
    public String toString() {
        return "ProjectionSettings{saveEvery=" + saveEvery + ", saveInterval=" + saveInterval + ", window=" + window
            + ", checkpointInterval=" + checkpointInterval + ", failurePolicy=" + failurePolicy + "}";
    }
}
