/**
 * Aggregates on an embedded {@link io.reel.store.EventStore}: command handling on an in-memory image, and the
 * Snapshotter stage.
 *
 * <p>The public surface is the SPI a user implements ({@link io.reel.aggregate.Aggregate}, with its
 * {@link io.reel.aggregate.EventTypes} and optional {@link io.reel.aggregate.StateCodec}), what
 * {@code decide} answers ({@link io.reel.aggregate.Decision}), the {@link io.reel.aggregate.AggregateRepository}
 * that runs commands and its {@link io.reel.aggregate.CommandResult}, and the
 * {@link io.reel.aggregate.Snapshotter}. Everything else (the loader, the snapshot files) is in {@code io.reel.aggregate.internal}.
 *
 * <p>The log is the truth: an aggregate's state is rebuilt from its events, snapshots only shorten that, and
 * deleting {@code <data dir>/snapshots/} loses nothing.
 */
package io.reel.aggregate;
