package io.reel.store.groups;

import io.reel.store.EventFilter;
import io.reel.store.ReelException;
import java.time.Duration;
import java.util.Objects;

/**
 * A persistent subscription group: its name, which records it hands out, where it starts, and how
 * deliveries are acknowledged. Immutable; validated when built.
 */
public final class GroupOptions {
    public static final int DEFAULT_MAX_IN_FLIGHT = 64;
    public static final Duration DEFAULT_ACK_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_RETRIES = 10;

    private static final long END = -1;

    private final String name;
    private final EventFilter filter;
    private final long from;
    private final int maxInFlight;
    private final Duration ackTimeout;
    private final int maxRetries;

    private GroupOptions(String name, EventFilter filter, long from, int maxInFlight, Duration ackTimeout, int maxRetries) {
        if (name == null || name.isBlank()) {
            throw ReelException.invalidArgument("a group needs a name");
        }
        io.reel.store.CheckpointStore.requireStorableName("group", name);
        if (maxInFlight <= 0) {
            throw ReelException.invalidArgument("max_in_flight " + maxInFlight + " must be positive");
        }
        if (ackTimeout == null || ackTimeout.isNegative() || ackTimeout.isZero()) {
            throw ReelException.invalidArgument("ack_timeout must be positive, got " + ackTimeout);
        }
        if (maxRetries < 0) {
            throw ReelException.invalidArgument("max_retries " + maxRetries + " must not be negative");
        }
        this.name = name;
        this.filter = Objects.requireNonNull(filter, "filter");
        this.from = from;
        this.maxInFlight = maxInFlight;
        this.ackTimeout = ackTimeout;
        this.maxRetries = maxRetries;
    }

    /** A group starting at the first record of the log, every record passing, default limits. */
    public static GroupOptions named(String name) {
        return new GroupOptions(name, EventFilter.none(), 0, DEFAULT_MAX_IN_FLIGHT, DEFAULT_ACK_TIMEOUT, DEFAULT_MAX_RETRIES);
    }

    public GroupOptions filter(EventFilter value) {
        return new GroupOptions(name, value, from, maxInFlight, ackTimeout, maxRetries);
    }

    public GroupOptions fromStart() {
        return new GroupOptions(name, filter, 0, maxInFlight, ackTimeout, maxRetries);
    }

    /** Starts at the head when the group is created: only records appended afterwards. */
    public GroupOptions fromEnd() {
        return new GroupOptions(name, filter, END, maxInFlight, ackTimeout, maxRetries);
    }

    public GroupOptions fromPosition(long position) {
        if (position < 0) {
            throw ReelException.invalidArgument("from_position " + position + " is negative");
        }
        return new GroupOptions(name, filter, position, maxInFlight, ackTimeout, maxRetries);
    }

    /** Deliveries a consumer may hold unacknowledged (a consumer may ask for fewer). */
    public GroupOptions maxInFlight(int value) {
        return new GroupOptions(name, filter, from, value, ackTimeout, maxRetries);
    }

    /** A delivery not acknowledged within this time is retried. */
    public GroupOptions ackTimeout(Duration value) {
        return new GroupOptions(name, filter, from, maxInFlight, value, maxRetries);
    }

    /** Retries after which an event is parked. */
    public GroupOptions maxRetries(int value) {
        return new GroupOptions(name, filter, from, maxInFlight, ackTimeout, value);
    }

    public String name() {
        return name;
    }

    public EventFilter filter() {
        return filter;
    }

    public boolean fromEndOfLog() {
        return from == END;
    }

    /** The start position, or -1 for the end of the log. */
    public long fromPosition() {
        return from;
    }

    public int maxInFlight() {
        return maxInFlight;
    }

    public Duration ackTimeout() {
        return ackTimeout;
    }

    public int maxRetries() {
        return maxRetries;
    }

    @Override
    public String toString() {
        return "GroupOptions{" + name + ", filter=" + filter + ", from=" + (from == END ? "end" : String.valueOf(from))
            + ", maxInFlight=" + maxInFlight + ", ackTimeout=" + ackTimeout + ", maxRetries=" + maxRetries + "}";
    }
}
