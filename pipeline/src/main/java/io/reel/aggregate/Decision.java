package io.reel.aggregate;

import com.google.protobuf.Message;
import java.util.List;
import java.util.Objects;

/**
 * What {@link Aggregate#decide} answers: the events a command produces (possibly none), or a rejection with
 * the reason the caller gets back. Immutable.
 */
public final class Decision {
    private static final Decision NONE = new Decision(List.of(), null);

    private final List<Message> events;
    private final String reason;

    private Decision(List<Message> events, String reason) {
        this.events = events;
        this.reason = reason;
    }

    /** The command is accepted and produces one event. */
    public static Decision accept(Message event) {
        return new Decision(List.of(Objects.requireNonNull(event, "event")), null);
    }

    /** The command is accepted and produces these events, in order; none means it changes nothing (an idempotent no-op). */
    public static Decision accept(Message... events) {
        return events.length == 0 ? NONE : new Decision(List.of(events), null);
    }

    /** The command is accepted and produces these events, in order. */
    public static Decision accept(List<? extends Message> events) {
        return events.isEmpty() ? NONE : new Decision(List.copyOf(events), null);
    }

    /** The command is refused; nothing is written and the caller gets {@code reason} back. */
    public static Decision reject(String reason) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a rejection needs a reason the caller can act on");
        }
        return new Decision(List.of(), reason);
    }

    public boolean isRejected() {
        return reason != null;
    }

    /** The rejection's reason, or null when the command was accepted. */
    public String reason() {
        return reason;
    }

    /** The events of an accepted command (empty for a rejection). */
    public List<Message> events() {
        return events;
    }

    @Override
    public String toString() {
        return reason != null ? "Decision{rejected: " + reason + "}" : "Decision{" + events.size() + " event(s)}";
    }
}
