package io.reel.projection;

/**
 * One projection as {@code projection.list}, metrics and the dashboard see it.
 *
 * @param name          the projection's name
 * @param phase         what it is doing
 * @param position      the next position it will apply: everything before it is in its state (what its
 *                      checkpoint stores when saved)
 * @param lagEvents     records between its position and the source's head (as last refreshed, at most one
 *                      lag-refresh interval old); for a filtered projection, records it has scanned past
 *                      without a match may count until the next checkpoint message moves its position
 * @param lagSeconds    0 when {@code lagEvents} is 0; else now minus the commit time of the oldest record it has
 *                      not applied yet: how long the oldest pending event has waited
 * @param error         why it is FAILED or RETRYING, which event it last skipped, or why it is resubscribing;
 *                      empty when nothing went wrong
 * @param skippedEvents events skipped under a skipping {@link FailurePolicy} since it started or was rebuilt
 */
public record ProjectionStatus(String name, Phase phase, long position, long lagEvents, double lagSeconds, String error,
                               long skippedEvents) {
    /** What a projection is doing. */
    public enum Phase {
        /** Not started, or closed. */
        STOPPED,
        /** Reading the log from its checkpoint (after a start, a rebuild or a resubscribe) towards the head. */
        CATCHING_UP,
        /** Has reached the head and follows live appends. */
        RUNNING,
        /** A handler failed; the runner waits to retry the same event (see {@link ProjectionStatus#error()}). */
        RETRYING,
        /**
         * Stopped by an error it will not retry (see {@link ProjectionStatus#error()}): a handler failure the
         * policy does not retry or skip, a state that does not decode or cannot be saved. State and checkpoint
         * are those before the failing event; {@code resume} or {@code rebuild} start it again.
         */
        FAILED
    }
}
