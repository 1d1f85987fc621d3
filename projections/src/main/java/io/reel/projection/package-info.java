/**
 * Projections: read models built from the log, each tailored to its query, each able to catch up, survive
 * restarts and be rebuilt, on any {@link io.reel.store.EventSource} (the embedded store or a remote client)
 * without knowing which.
 *
 * <p>A {@link io.reel.projection.Projection} defines a read model; {@link io.reel.projection.Projections}
 * runs projections ({@link io.reel.projection.ProjectionRunner}s), saves each state with its checkpoint
 * atomically in a {@link io.reel.store.CheckpointStore}, and answers {@code list()} and {@code state(name)}.
 * {@link io.reel.projection.EventTypeCounts} is the built-in {@code event-types} projection.
 *
 * <p>Public types: {@link io.reel.projection.Projection}, {@link io.reel.projection.Projections},
 * {@link io.reel.projection.ProjectionRunner}, {@link io.reel.projection.ProjectionSettings},
 * {@link io.reel.projection.ProjectionState}, {@link io.reel.projection.ProjectionStatus},
 * {@link io.reel.projection.FailurePolicy}, {@link io.reel.projection.EventTypeCounts}.
 */
package io.reel.projection;
