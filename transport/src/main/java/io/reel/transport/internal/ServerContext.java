package io.reel.transport.internal;

import io.reel.store.EventStore;
import io.reel.transport.ServerSettings;
import reactor.core.scheduler.Scheduler;

/** What every connection of a server shares. */
public record ServerContext(EventStore store, ServerSettings settings, TransportMetrics metrics, Scheduler scheduler) {
}
