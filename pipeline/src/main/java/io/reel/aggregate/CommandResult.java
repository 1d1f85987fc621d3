package io.reel.aggregate;

import com.google.protobuf.Message;
import java.util.List;

/**
 * The outcome of a command: {@link Accepted} (its events are durable) or {@link Rejected} (the aggregate
 * refused it, with its reason; nothing was written). A rejection is an expected outcome, so it is a value,
 * not an error: errors are kept for faults ({@code WRONG_EXPECTED_VERSION} after the retries ran out,
 * {@code OVERLOADED}, {@code IO_ERROR}, ... as {@link io.reel.store.ReelException}s with their codes).
 *
 * @param <S> the aggregate's state
 */
public sealed interface CommandResult<S> permits CommandResult.Accepted, CommandResult.Rejected {
    /** The aggregate's stream. */
    String stream();

    /** The stream's revision after the command (accepted), or the one the command was refused at (-1: no events yet). */
    long revision();

    /** The aggregate's state after the command (accepted), or the one it was refused in. */
    S state();

    /**
     * The command was accepted and its events are durable.
     *
     * @param events   the events it wrote, in order (empty when it changed nothing)
     * @param position the log position of its last event, or -1 when it wrote none
     */
    record Accepted<S>(String stream, List<Message> events, long revision, long position, S state) implements CommandResult<S> {
    }

    /**
     * The aggregate refused the command; nothing was written. The refusal was checked against the latest
     * durable events of the stream, not only against this process's cached state.
     *
     * @param reason the aggregate's reason, for the caller
     */
    record Rejected<S>(String stream, String reason, long revision, S state) implements CommandResult<S> {
    }
}
