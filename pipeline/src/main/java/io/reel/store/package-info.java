/**
 * The embedded event store: the log, its stages and the public {@link io.reel.store.EventStore} API.
 */
package io.reel.store;
