package io.reel.store;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The read side of an event store, whether embedded ({@link EventStore}) or remote ({@code ReelClient}):
 * what projections and other consumers run on without knowing which.
 */
public interface EventSource {
    /** As a from-revision or from-position: start at the last record (for backwards reads). */
    long END = Long.MAX_VALUE;

    /**
     * Catch up from the log, then follow live appends, in position order, with no gap and no duplicate
     * across the switch. Never completes unless cancelled. Demand-driven: each message counts against
     * {@code request(n)}.
     */
    Flux<SubscriptionMessage> subscribe(SubscribeOptions options);

    /**
     * Records of {@code $all} from {@code fromPosition} (inclusive) in the given direction, at most
     * {@code maxCount} of them (0: no limit), that pass the filter.
     */
    Flux<RecordedEvent> readAll(long fromPosition, long maxCount, Direction direction, EventFilter filter);

    /**
     * Events of one stream from {@code fromRevision} (inclusive), at most {@code maxCount} (0: no limit).
     * A stream that does not exist reads as empty.
     */
    Flux<RecordedEvent> readStream(String stream, long fromRevision, long maxCount, Direction direction);

    /** One past the position of the last durable record. */
    Mono<Long> head();

    /** Stores the checkpoint of a named subscription: the next position it should read. */
    Mono<Void> checkpoint(String name, long nextPosition);
}
