/**
 * The embedded event store's API: open an {@link io.reel.store.EventStore}, append, read and subscribe; everything
 * the store does behind it (log, Writer, Indexer, Projector) lives in {@code io.reel.store.internal.*}.
 *
 * <p>Public types: {@link io.reel.store.EventStore}, {@link io.reel.store.EventSource},
 * {@link io.reel.store.StoreSettings}, {@link io.reel.store.Durability}, {@link io.reel.store.EventData},
 * {@link io.reel.store.RecordedEvent}, {@link io.reel.store.ExpectedRevision}, {@link io.reel.store.AppendResult},
 * {@link io.reel.store.SubscribeOptions}, {@link io.reel.store.SubscriptionMessage},
 * {@link io.reel.store.SubscriptionStatus}, {@link io.reel.store.EventFilter}, {@link io.reel.store.Direction},
 * {@link io.reel.store.StreamMetadata}, {@link io.reel.store.StoreInfo}, {@link io.reel.store.CheckpointStore},
 * {@link io.reel.store.StoreAdmin}, {@link io.reel.store.ScavengeReport}, and the typed errors
 * {@link io.reel.store.ReelException}, {@link io.reel.store.ErrorCode},
 * {@link io.reel.store.WrongExpectedVersionException}.
 */
package io.reel.store;
