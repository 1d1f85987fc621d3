/**
 * The Projector stage: fan-out of committed batches to live subscriptions ({@code ProjectorStage}), one
 * demand-driven {@code LogSubscription} per subscriber reading the log through a {@code LogCursor}, and their checkpoints.
 * Internal: only {@code io.reel.store} and its internal packages may use it (held by the ArchUnit test).
 */
package io.reel.store.internal.subscription;
