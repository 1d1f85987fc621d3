package io.reel.store.groups;

import io.reel.store.RecordedEvent;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One event handed to one consumer of a group. Acknowledge it with {@link #ack()} once handled, or reject it
 * with {@link #nack}; without either within the group's ack timeout it is delivered again. Only the first
 * of those calls counts. Thread-safe.
 */
public final class Delivery {
    private final RecordedEvent event;
    private final int retryCount;
    private final GroupDispatcher group;
    private final long consumerId;
    private final AtomicBoolean settled = new AtomicBoolean();

    Delivery(RecordedEvent event, int retryCount, GroupDispatcher group, long consumerId) {
        this.event = event;
        this.retryCount = retryCount;
        this.group = group;
        this.consumerId = consumerId;
    }

    public RecordedEvent event() {
        return event;
    }

    /** How many times this event was delivered before (0 on the first delivery). */
    public int retryCount() {
        return retryCount;
    }

    public void ack() {
        if (settled.compareAndSet(false, true)) {
            group.settle(event.position(), consumerId, null, null);
        }
    }

    public void nack(Nack action, String reason) {
        if (settled.compareAndSet(false, true)) {
            group.settle(event.position(), consumerId, action, reason);
        }
    }

    @Override
    public String toString() {
        return "Delivery{" + event + ", retry " + retryCount + "}";
    }
}
