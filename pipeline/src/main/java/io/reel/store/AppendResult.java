package io.reel.store;

/**
 * Where an append landed: its events occupy the log positions {@code firstPosition..lastPosition}
 * contiguously, and the stream's revision after it is {@code nextExpectedRevision} (the revision of its
 * last event: pass it as the expected revision of the next append).
 */
public record AppendResult(long firstPosition, long lastPosition, long nextExpectedRevision) {
}
