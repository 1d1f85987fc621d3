/**
 * The insides of aggregates: loading an aggregate's image from its snapshot and events ({@code AggregateLoader}),
 * and the snapshot files ({@code SnapshotStore}). Internal: only {@code io.reel.aggregate} may use it.
 */
package io.reel.aggregate.internal;
