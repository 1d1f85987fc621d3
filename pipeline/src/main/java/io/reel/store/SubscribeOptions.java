package io.reel.store;

import java.util.Objects;

/**
 * Where a subscription starts, what it delivers and under which name it keeps a checkpoint.
 *
 * <p>A named subscription with a stored checkpoint resumes from that checkpoint, whatever {@code from} says (unless
 * {@link #keepPosition()}).
 */
public final class SubscribeOptions {
    /** Default number of scanned records between two {@link SubscriptionMessage.Checkpoint}s of a filtered subscription. */
    public static final int DEFAULT_CHECKPOINT_INTERVAL = 1024;

    private static final long END = -1;

    private final long fromPosition;
    private final EventFilter filter;
    private final String name;
    private final int checkpointInterval;
    private final boolean checkpointAtHead;
    private final boolean keepPosition;

    private SubscribeOptions(long fromPosition, EventFilter filter, String name, int checkpointInterval) {
        this(fromPosition, filter, name, checkpointInterval, false, false);
    }

    private SubscribeOptions(long fromPosition, EventFilter filter, String name, int checkpointInterval, boolean checkpointAtHead,
                             boolean keepPosition) {
        this.fromPosition = fromPosition;
        this.filter = Objects.requireNonNull(filter, "filter");
        this.name = name;
        this.checkpointInterval = checkpointInterval;
        this.checkpointAtHead = checkpointAtHead;
        this.keepPosition = keepPosition;
    }

    /** From the first record of the log. */
    public static SubscribeOptions fromStart() {
        return new SubscribeOptions(0, EventFilter.none(), null, DEFAULT_CHECKPOINT_INTERVAL);
    }

    /** Live only: from the head at the moment of subscribing. */
    public static SubscribeOptions fromEnd() {
        return new SubscribeOptions(END, EventFilter.none(), null, DEFAULT_CHECKPOINT_INTERVAL);
    }

    /** From {@code position} inclusive: the first record delivered is the one at that position. */
    public static SubscribeOptions fromPosition(long position) {
        if (position < 0) {
            throw ReelException.invalidArgument("from_position " + position + " is negative; positions start at 0");
        }
        return new SubscribeOptions(position, EventFilter.none(), null, DEFAULT_CHECKPOINT_INTERVAL);
    }

    public SubscribeOptions filter(EventFilter newFilter) {
        return new SubscribeOptions(fromPosition, newFilter, name, checkpointInterval, checkpointAtHead, keepPosition);
    }

    /**
     * Names the subscription: it then resumes from its stored checkpoint (see {@link EventStore#checkpoint}) and
     * shows under this name in {@link EventStore#subscriptions()} and the lag meters. Names starting with
     * {@code $} belong to Reel's own consumers (the indexer, projection runners) and are not listed.
     */
    public SubscribeOptions name(String newName) {
        if (newName != null && newName.isBlank()) {
            throw ReelException.invalidArgument("subscription name is blank; give a name or none");
        }
        return new SubscribeOptions(fromPosition, filter, newName, checkpointInterval, checkpointAtHead, keepPosition);
    }

    /** Scanned records between two checkpoint messages of a filtered subscription (default 1024). */
    public SubscribeOptions checkpointInterval(int records) {
        if (records <= 0) {
            throw ReelException.invalidArgument("checkpoint interval " + records + " must be positive");
        }
        return new SubscribeOptions(fromPosition, filter, name, records, checkpointAtHead, keepPosition);
    }

    public boolean fromEndOfLog() {
        return fromPosition == END;
    }

    /** The start position, or -1 for the end of the log. */
    public long fromPosition() {
        return fromPosition;
    }

    public EventFilter filter() {
        return filter;
    }

    /** The subscription's name, or null. */
    public String name() {
        return name;
    }

    public int checkpointInterval() {
        return checkpointInterval;
    }

    /**
     * A filtered subscription that reaches the head after skipping records also sends a {@code Checkpoint} at
     * the head, so a consumer idle at the head (a filtered group, a projection) stands at the head rather than up
     * to an interval behind. Off by default: under live load of records it skips, that is one message per batch
     * the writer commits.
     */
    public SubscribeOptions checkpointAtHead() {
        return new SubscribeOptions(fromPosition, filter, name, checkpointInterval, true, keepPosition);
    }

    public boolean checkpointsAtHead() {
        return checkpointAtHead;
    }

    /**
     * A named subscription that starts where {@code from} says, not from its stored checkpoint: a client that resumes
     * where it stood (its own position is exact; the checkpoint lags it, or on a cluster is another node's).
     */
    public SubscribeOptions keepPosition() {
        return new SubscribeOptions(fromPosition, filter, name, checkpointInterval, checkpointAtHead, true);
    }

    public boolean keepsPosition() {
        return keepPosition;
    }

    @Override
    public String toString() {
        return "SubscribeOptions{from=" + (fromEndOfLog() ? "end" : String.valueOf(fromPosition)) + ", filter=" + filter
            + (name == null ? "" : ", name=" + name) + "}";
    }
}
