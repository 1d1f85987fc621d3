package io.reel.store;

/**
 * One stream as {@link EventStore#listStreams} lists it.
 *
 * @param stream       the stream's name
 * @param revision     its revision: the number of its last event, or where a soft delete left it
 * @param lastPosition the log position of its last event
 * @param deleted      soft- or hard-deleted (a soft-deleted stream comes back with its next append)
 */
public record StreamSummary(String stream, long revision, long lastPosition, boolean deleted) {
}
