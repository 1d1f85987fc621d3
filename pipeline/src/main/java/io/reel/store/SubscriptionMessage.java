package io.reel.store;

/**
 * What a subscription delivers: events, one {@link CaughtUp} when it first reaches the head, and
 * {@link Checkpoint}s that say how far it has scanned even when its filter matched nothing, so that a
 * consumer's checkpoint keeps moving. Each message counts as one against {@code request(n)}.
 */
public sealed interface SubscriptionMessage {
    /**
     * The position to resume from after this message: store it as the checkpoint once everything before it
     * has been handled.
     */
    long nextPosition();

    /** An event that passed the subscription's filter. */
    record Event(RecordedEvent event) implements SubscriptionMessage {
        @Override
        public long nextPosition() {
            return event.position() + 1;
        }
    }

    /** The subscription has reached the head for the first time; events from here on are live. */
    record CaughtUp(long nextPosition) implements SubscriptionMessage {
    }

    /** Every record before {@code nextPosition} has been scanned; none after the last event passed the filter. */
    record Checkpoint(long nextPosition) implements SubscriptionMessage {
    }
}
