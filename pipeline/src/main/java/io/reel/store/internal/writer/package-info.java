/**
 * The Writer stage: the one thread that owns the active segment, its bounded queue and group commit
 * ({@code WriterStage}), the pure append decision ({@code AppendRules}), stream heads, the event-id window and the scavenger.
 * Internal: only {@code io.reel.store} and its internal packages may use it (held by the ArchUnit test).
 */
package io.reel.store.internal.writer;
