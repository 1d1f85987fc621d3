package io.reel.aggregate;

import com.google.protobuf.Message;
import io.reel.aggregate.internal.AggregateLoader;
import io.reel.aggregate.internal.Image;
import io.reel.aggregate.internal.SnapshotStore;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * The Snapshotter stage: off the write path, it folds the committed events of registered aggregate types and
 * writes a snapshot of a stream every {@link Builder#every N} events of that stream, so that loading an
 * aggregate reads its latest snapshot and fewer than N events.
 *
 * <p>It is a named subscription over the log ({@code EventStore.subscribe} with the stream prefixes
 * {@code "<name>-"} of its aggregate types), so it resumes from its own checkpoint after a restart, reads the
 * log only as fast as it keeps up, and never slows a writer. Should the subscription fail (for anything but the
 * store closing), it resubscribes from its checkpoint with a backoff; events it sees twice are skipped.
 * Snapshots are an optimisation: one that is missing, damaged, of an older schema version or not matching the
 * log is ignored and rebuilt from events.
 *
 * <h2>Memory</h2>
 * It keeps the folding state of at most {@link Builder#maxStreams} streams (least recently used first out). An
 * evicted stream costs nothing until its next event: then its last snapshot's revision is read from its file,
 * and when a snapshot is due its state is rebuilt by the repository's loader (that snapshot plus fewer than N
 * events) before being written. The same happens to every stream after a restart, so a restart or an eviction
 * never loses a snapshot that is due, and never writes a state that was not rebuilt from the log.
 *
 * <p>Runs on its own thread (snapshot files are blocking I/O). {@link #close()} stops it and records its
 * checkpoint; close it before the store.
 */
public final class Snapshotter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Snapshotter.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final int CHECKPOINT_EVERY = 256;

    private final EventStore store;
    private final String name;
    private final int every;
    private final List<Folder<?>> folders;
    private final LinkedHashMap<String, StreamFold> folds;
    private final ExecutorService executor;
    private final Scheduler thread;
    private final Disposable subscription;
    private volatile long position;
    private volatile boolean closed;
    private final AtomicBoolean closing = new AtomicBoolean();
    private int sinceCheckpoint;

    private Snapshotter(Builder b) {
        this.store = b.store;
        this.name = b.name;
        this.every = b.every;
        int maxStreams = b.maxStreams;
        this.folds = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, StreamFold> eldest) {
                return size() > maxStreams;
            }
        };
        List<Folder<?>> list = new ArrayList<>();
        EventFilter.Builder filter = EventFilter.builder();
        for (Aggregate<?, ?> aggregate : b.aggregates) {
            list.add(new Folder<>(aggregate));
            filter.streamPrefix(aggregate.name() + "-");
        }
        this.folders = List.copyOf(list);
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "reel-snapshotter-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.thread = Schedulers.fromExecutorService(executor, "reel-snapshotter");
        SubscribeOptions options = SubscribeOptions.fromStart().name(name).filter(filter.build());
        this.subscription = store.subscribe(options)
            .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(10))
                .filter(e -> !(e instanceof ReelException r && r.code() == ErrorCode.CLOSED))
                .doBeforeRetry(signal -> LOG.warn("snapshotter '{}' resubscribes from its checkpoint after: {}", name,
                    signal.failure().toString())))
            .publishOn(thread, 256)
            .subscribe(this::onMessage, this::onError);
    }

    public static Builder builder(EventStore store) {
        return new Builder(store);
    }

    /** The next log position it will look at: every record before it has been folded (and snapshotted when due). */
    public long position() {
        return position;
    }

    /** Streams whose folding state is in memory now. */
    int foldingStreams() {
        return folds.size();
    }

    private void onMessage(SubscriptionMessage message) {
        if (closed) {
            return;
        }
        if (message instanceof SubscriptionMessage.Event event) {
            RecordedEvent record = event.event();
            String stream = record.stream();
            for (Folder<?> folder : folders) {
                if (stream.startsWith(folder.prefix)) {
                    folder.onEvent(record);
                    break;
                }
            }
            position = message.nextPosition();
            if (++sinceCheckpoint >= CHECKPOINT_EVERY) {
                checkpoint();
            }
        } else {
            position = message.nextPosition();
            checkpoint();
        }
    }

    private void checkpoint() {
        sinceCheckpoint = 0;
        store.checkpoint(name, position).subscribe(null, e -> LOG.debug("snapshotter checkpoint not recorded: {}", e.toString()));
    }

    private void onError(Throwable t) {
        if (t instanceof ReelException e && e.code() == ErrorCode.CLOSED) {
            LOG.debug("snapshotter '{}' stopped: {}", name, e.getMessage());
        } else {
            LOG.error("snapshotter '{}' stopped at position {}: {}", name, position, t.toString(), t);
        }
    }

    /** Stops the subscription, records the checkpoint and ends the thread. Snapshots already written stay. */
    @Override
    public void close() {
        if (closing.getAndSet(true)) {
            return;
        }
        subscription.dispose();
        executor.execute(() -> {
            closed = true;
            if (position > 0) {
                checkpoint();
            }
        });
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("snapshotter '{}' did not stop within 30 s", name);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        thread.dispose();
    }

    /** What the snapshotter knows of one stream. Confined to the snapshotter's thread. */
    private static final class StreamFold {
        Object state;
        long revision;
        long snapshotRevision;
        /** The stream's truncation point when {@link #state} began: a later delete or truncation makes it stale. */
        long foldedFrom;
    }

    /** Folding and snapshotting for one aggregate type. */
    private final class Folder<S> {
        final Aggregate<S, ?> aggregate;
        final String prefix;
        final EventTypes types;
        final StateCodec<S> codec;
        final SnapshotStore snapshots;
        final AggregateLoader<S> loader;

        Folder(Aggregate<S, ?> aggregate) {
            this.aggregate = aggregate;
            this.prefix = aggregate.name() + "-";
            this.types = aggregate.eventTypes();
            this.codec = Objects.requireNonNull(aggregate.stateCodec(), () -> "aggregate '" + aggregate.name()
                + "' has no state codec, so it cannot be snapshotted");
            this.snapshots = new SnapshotStore(store.directory(), aggregate.name(), codec.schemaVersion(), store.settings().meterRegistry());
            this.loader = new AggregateLoader<>(store, aggregate, snapshots);
        }

        @SuppressWarnings("unchecked")
        void onEvent(RecordedEvent record) {
            String stream = record.stream();
            long revision = record.revision();
            try {
                StreamFold f = folds.get(stream);
                if (f == null) {
                    f = new StreamFold();
                    if (revision == 0) {
                        f.state = aggregate.initial(loader.idOf(stream));
                        f.snapshotRevision = -1;
                    } else {
                        SnapshotStore.Snapshot last = snapshots.read(stream, false);
                        f.snapshotRevision = last == null ? -1 : last.revision();
                    }
                    f.revision = revision - 1;
                    folds.put(stream, f);
                }
                if (revision <= f.revision) {
                    return;
                }
                if (f.state != null && f.revision + 1 == revision) {
                    Message message = types.decode(record);
                    if (message != null) {
                        f.state = Objects.requireNonNull(aggregate.evolve((S) f.state, message), "evolve returned null");
                    }
                } else {
                    f.state = null;
                }
                f.revision = revision;
                if (revision - f.snapshotRevision >= every) {
                    snapshot(stream, f, record);
                }
            } catch (RuntimeException e) {
                folds.remove(stream);
                LOG.warn("snapshotter: cannot fold '{}' at revision {} (position {}): {}; it is retried at its next event",
                    stream, revision, record.position(), e.toString());
            }
        }

        @SuppressWarnings("unchecked")
        private void snapshot(String stream, StreamFold f, RecordedEvent record) {
            // the truncation point now: after a soft delete or a truncation the state folded so far includes events the
            // stream no longer shows (an aggregate loaded now folds only what it shows), so it must not be written as the
            // new incarnation's; it is rebuilt by the loader from the log as it reads now
            long truncateBefore = store.streamMetadata(stream).block(Duration.ofMinutes(5)).truncateBefore();
            if (f.state != null && truncateBefore > f.foldedFrom) {
                f.state = null;
            }
            if (f.state == null) {
                Image<S> rebuilt = loader.load(loader.idOf(stream), record.revision()).block(Duration.ofMinutes(5));
                if (rebuilt == null || rebuilt.revision() != record.revision() || rebuilt.position() != record.position()) {
                    LOG.debug("snapshotter: '{}' could not be rebuilt up to revision {}; skipped", stream, record.revision());
                    return;
                }
                f.state = rebuilt.state();
                f.foldedFrom = truncateBefore;
            }
            snapshots.write(stream, record.revision(), record.position(), codec.encode((S) f.state));
            f.snapshotRevision = record.revision();
        }
    }

    /** Which aggregates to snapshot, how often, and how many folding states to keep. */
    public static final class Builder {
        private final EventStore store;
        private final List<Aggregate<?, ?>> aggregates = new ArrayList<>();
        private int every = 100;
        private int maxStreams = 10_000;
        private String name = "snapshotter";

        private Builder(EventStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        /** Snapshots this aggregate type (it needs a {@link StateCodec}). */
        public Builder add(Aggregate<?, ?> aggregate) {
            aggregates.add(Objects.requireNonNull(aggregate, "aggregate"));
            return this;
        }

        /** Writes a snapshot of a stream every {@code events} events of it (default 100). */
        public Builder every(int events) {
            every = events;
            return this;
        }

        /** Streams whose folding state is kept in memory (default 10,000; see the class comment for eviction). */
        public Builder maxStreams(int streams) {
            maxStreams = streams;
            return this;
        }

        /** The name of its subscription and checkpoint (default "snapshotter"). */
        public Builder name(String value) {
            name = value;
            return this;
        }

        /** Checks the settings and starts the stage. */
        public Snapshotter start() {
            if (aggregates.isEmpty()) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "the snapshotter has no aggregate to snapshot; add one");
            }
            List<String> names = new ArrayList<>();
            for (Aggregate<?, ?> a : aggregates) {
                AggregateRepository.checkName(a.name());
                if (names.contains(a.name())) {
                    throw new ReelException(ErrorCode.INVALID_ARGUMENT, "aggregate '" + a.name() + "' is added twice");
                }
                if (a.stateCodec() == null) {
                    throw new ReelException(ErrorCode.INVALID_ARGUMENT, "aggregate '" + a.name()
                        + "' has no state codec (Aggregate.stateCodec()), so it cannot be snapshotted");
                }
                names.add(a.name());
            }
            if (every < 1) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "every " + every + " must be 1 or more events");
            }
            if (maxStreams < 1) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "maxStreams " + maxStreams + " must be positive");
            }
            if (name == null || name.isBlank()) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "the snapshotter needs a name for its checkpoint");
            }
            return new Snapshotter(this);
        }
    }
}
