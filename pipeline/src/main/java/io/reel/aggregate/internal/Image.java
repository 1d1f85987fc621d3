package io.reel.aggregate.internal;

/**
 * An aggregate's state as of one revision of its stream: what the repository caches and the loader builds.
 *
 * @param revision the stream revision the state includes (-1: no event yet)
 * @param position the log position of the event at {@code revision} (-1: no event yet)
 */
public record Image<S>(S state, long revision, long position) {
}
