package io.reel.store;

import java.time.Duration;
import java.util.Locale;

/**
 * When an append is acknowledged.
 *
 * <ul>
 *   <li>{@link #fsync()} (the default): after its bytes are forced to disk. Concurrent appends share one
 *       write and one force (group commit); nothing waits on a timer.</li>
 *   <li>{@link #batched(Duration)}: after the write to the operating system; the log is forced at least every
 *       {@code interval}. Survives a process crash; a power loss may lose the last interval.</li>
 * </ul>
 */
public final class Durability {
    private static final Durability FSYNC = new Durability(null);

    private final Duration interval;

    private Durability(Duration interval) {
        this.interval = interval;
    }

    public static Durability fsync() {
        return FSYNC;
    }

    public static Durability batched(Duration interval) {
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw ReelException.invalidArgument("batched durability needs a positive interval, got " + interval);
        }
        return new Durability(interval);
    }

    /** Parses {@code fsync} or {@code batched:MS}, as the command line takes it. */
    public static Durability parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("fsync")) {
            return FSYNC;
        }
        if (t.startsWith("batched:")) {
            try {
                return batched(Duration.ofMillis(Long.parseLong(t.substring("batched:".length()))));
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
        }
        throw ReelException.invalidArgument("durability '" + text + "' is not 'fsync' or 'batched:MS' (e.g. batched:5)");
    }

    public boolean isFsync() {
        return interval == null;
    }

    /** The longest time between forces in batched mode; null for fsync. */
    public Duration interval() {
        return interval;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Durability d && java.util.Objects.equals(d.interval, interval);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hashCode(interval);
    }

    @Override
    public String toString() {
        return interval == null ? "fsync" : "batched:" + interval.toMillis();
    }
}
