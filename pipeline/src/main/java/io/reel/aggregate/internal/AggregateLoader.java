package io.reel.aggregate.internal;

import com.google.protobuf.Message;
import io.reel.aggregate.Aggregate;
import io.reel.aggregate.EventTypes;
import io.reel.aggregate.StateCodec;
import io.reel.store.Direction;
import io.reel.store.EventStore;
import io.reel.store.RecordedEvent;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Rebuilds an aggregate's state from the log: the latest usable snapshot, then the events after it.
 *
 * <p>A snapshot is trusted only when the log agrees with it: the read starts <em>at</em> the snapshot's revision,
 * and the event found there must sit at the snapshot's position. A snapshot from another data directory (a
 * restored backup, a recreated stream) or beyond the end of the stream is therefore ignored, counted as a
 * {@code mismatch}, and the state is folded from the stream's first event instead. Losing every snapshot costs
 * time, never state.
 *
 * <p>Thread-safe. Snapshot files are read on {@code boundedElastic}; events are folded on the store's reader
 * threads.
 */
public final class AggregateLoader<S> {
    private final EventStore store;
    private final Aggregate<S, ?> aggregate;
    private final EventTypes types;
    private final StateCodec<S> codec;
    private final SnapshotStore snapshots;
    private final String prefix;

    private static final Duration CATCH_UP_PAUSE = Duration.ofNanos(200_000);

    /** @param snapshots null when snapshots are not read */
    public AggregateLoader(EventStore store, Aggregate<S, ?> aggregate, SnapshotStore snapshots) {
        this.store = store;
        this.aggregate = aggregate;
        this.types = aggregate.eventTypes();
        this.codec = aggregate.stateCodec();
        this.snapshots = codec == null ? null : snapshots;
        this.prefix = aggregate.name() + "-";
    }

    public String streamOf(String id) {
        return prefix + id;
    }

    public String idOf(String stream) {
        return stream.substring(prefix.length());
    }

    /** The state as of the stream's last durable event. */
    public Mono<Image<S>> load(String id) {
        return load(id, Long.MAX_VALUE);
    }

    /** The state as of revision {@code upTo} (inclusive) of the stream, or its last event when it has fewer. */
    public Mono<Image<S>> load(String id, long upTo) {
        return Mono.defer(() -> loadNow(id, upTo));
    }

    private Mono<Image<S>> loadNow(String id, long upTo) {
        Image<S> empty = new Image<>(Objects.requireNonNull(aggregate.initial(id), "initial returned null"), -1, -1);
        if (snapshots == null) {
            return fold(streamOf(id), empty, upTo, null);
        }
        String stream = streamOf(id);
        return Mono.fromCallable(() -> snapshots.read(stream, true))
            .subscribeOn(Schedulers.boundedElastic())
            .flatMap(snapshot -> fromSnapshot(snapshot, empty, upTo))
            .switchIfEmpty(Mono.defer(() -> fold(stream, empty, upTo, null)));
    }

    private Mono<Image<S>> fromSnapshot(SnapshotStore.Snapshot snapshot, Image<S> empty, long upTo) {
        if (snapshot.revision() > upTo) {
            return Mono.empty();
        }
        S state;
        try {
            state = codec.decode(snapshot.state());
        } catch (RuntimeException e) {
            snapshots.undecodable(snapshot, e);
            return Mono.empty();
        }
        if (state == null) {
            snapshots.undecodable(snapshot, new NullPointerException("the codec decoded null"));
            return Mono.empty();
        }
        Image<S> from = new Image<>(state, snapshot.revision(), snapshot.position());
        return fold(snapshot.stream(), from, upTo, snapshot)
            .onErrorResume(SnapshotMismatch.class, e -> {
                snapshots.mismatched(snapshot, e.getMessage());
                return fold(snapshot.stream(), empty, upTo, null);
            });
    }

    /** {@code from} with the stream's events after {@code from.revision()} applied (what another writer added). */
    public Mono<Image<S>> catchUp(String id, Image<S> from) {
        return fold(streamOf(id), from, Long.MAX_VALUE, null);
    }

    /**
     * Like {@link #catchUp}, but waits (polling, at most about {@code patience}) until the stream has reached
     * {@code revision}: a conflicting append is reported before it is durable, and so before it can be read.
     */
    public Mono<Image<S>> catchUpTo(String id, Image<S> from, long revision, Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        AtomicReference<Image<S>> latest = new AtomicReference<>(from);
        return Mono.defer(() -> catchUp(id, latest.get()))
            .doOnNext(latest::set)
            .filter(image -> image.revision() >= revision || System.nanoTime() - deadline >= 0)
            .repeatWhenEmpty(empties -> empties.concatMap(n -> Mono.delay(CATCH_UP_PAUSE)));
    }

    /**
     * Applies the events after {@code from.revision()} up to {@code upTo}. With {@code check}, the read starts one
     * earlier, at the snapshot's own revision, and that event must be where the snapshot says.
     */
    private Mono<Image<S>> fold(String stream, Image<S> from, long upTo, SnapshotStore.Snapshot check) {
        long first = check != null ? check.revision() : from.revision() + 1;
        if (upTo < first) {
            return Mono.just(from);
        }
        long count = upTo == Long.MAX_VALUE ? 0 : upTo - first + 1;
        return store.readStream(stream, first, count, Direction.FORWARDS)
            .reduceWith(() -> new Fold(from, check), Fold::add)
            .map(Fold::image);
    }

    /** The state being rebuilt, one event at a time. Confined to the reading thread. */
    private final class Fold {
        private S state;
        private long revision;
        private long position;
        private SnapshotStore.Snapshot check;

        Fold(Image<S> from, SnapshotStore.Snapshot check) {
            this.state = from.state();
            this.revision = from.revision();
            this.position = from.position();
            this.check = check;
        }

        Fold add(RecordedEvent event) {
            if (check != null) {
                if (event.revision() != check.revision() || event.position() != check.position()) {
                    throw new SnapshotMismatch("the log has revision " + event.revision() + " at position " + event.position());
                }
                check = null;
                return this;
            }
            Message message = types.decode(event);
            if (message != null) {
                S next = aggregate.evolve(state, message);
                if (next == null) {
                    throw new IllegalStateException("aggregate '" + aggregate.name() + "' evolved to a null state at revision "
                        + event.revision() + " of '" + event.stream() + "'");
                }
                state = next;
            }
            revision = event.revision();
            position = event.position();
            return this;
        }

        Image<S> image() {
            if (check != null) {
                throw new SnapshotMismatch("the stream has no event at that revision");
            }
            return new Image<>(state, revision, position);
        }
    }

    /** The log does not agree with a snapshot. */
    private static final class SnapshotMismatch extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SnapshotMismatch(String message) {
            super(message, null, false, false);
        }
    }
}
