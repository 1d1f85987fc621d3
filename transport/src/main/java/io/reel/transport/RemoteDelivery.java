package io.reel.transport;

import io.reel.store.RecordedEvent;
import io.reel.store.groups.Nack;
import io.reel.transport.internal.AckBatcher;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One event a group handed to this remote consumer ({@link RemoteGroups#join}). Answer it with {@link #ack()}
 * once handled or {@link #nack} when it could not be; without an answer within the group's ack timeout the
 * group hands it out again. Only the first answer counts. Answers go up the {@code group.join} channel in
 * batches (see {@link RemoteGroups#join}); an answer given after the connection was lost is dropped, and the
 * group delivers the event again, to this consumer once it has rejoined or to another one: at-least-once.
 * Thread-safe.
 */
public final class RemoteDelivery {
    private final RecordedEvent event;
    private final int retryCount;
    private final AckBatcher channel;
    private final AtomicBoolean answered = new AtomicBoolean();

    RemoteDelivery(RecordedEvent event, int retryCount, AckBatcher channel) {
        this.event = event;
        this.retryCount = retryCount;
        this.channel = channel;
    }

    public RecordedEvent event() {
        return event;
    }

    /** How many times this event was delivered before (0 on the first delivery). */
    public int retryCount() {
        return retryCount;
    }

    /** The event was handled: the group counts it as done. */
    public void ack() {
        if (answered.compareAndSet(false, true)) {
            channel.answer(event.position(), null, null);
        }
    }

    /**
     * The event could not be handled: {@link Nack#RETRY} delivers it again (parked after the group's
     * {@code maxRetries}), {@link Nack#PARK} sets it aside, {@link Nack#SKIP} drops it as if acknowledged.
     *
     * @param reason logged by the server with a parked event; may be null
     */
    public void nack(Nack action, String reason) {
        Objects.requireNonNull(action, "action");
        if (answered.compareAndSet(false, true)) {
            channel.answer(event.position(), action, reason);
        }
    }

    @Override
    public String toString() {
        return "RemoteDelivery{" + event + ", retry " + retryCount + "}";
    }
}
