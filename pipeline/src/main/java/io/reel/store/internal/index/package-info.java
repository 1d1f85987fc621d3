/**
 * The Indexer stage: the stream index (stream name to positions, metadata) built from committed batches off the
 * writer thread, and its checkpoint; derived data, rebuilt from the log when missing or wrong.
 * Internal: only {@code io.reel.store} and its internal packages may use it (held by the ArchUnit test).
 */
package io.reel.store.internal.index;
