package io.reel.transport;

import io.reel.store.EventStore;
import reactor.core.scheduler.Scheduler;

/** What every connection of a server shares. */
record ServerContext(EventStore store, ServerSettings settings, TransportMetrics metrics, Scheduler scheduler) {
}
