package io.reel.store.internal.subscription;

import io.reel.store.CheckpointStore;
import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Checkpoints of named subscriptions. {@link #record} keeps the newest position in memory and returns; a
 * flusher writes the changed ones to {@code checkpoints/subscriptions/} every
 * {@link StoreSettings#checkpointFlushInterval()} and on close. After a crash a named subscription therefore
 * resumes at most one flush interval (plus whatever its consumer had not yet checkpointed) behind where it
 * was: the at-least-once window.
 */
public final class SubscriptionCheckpoints implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SubscriptionCheckpoints.class);

    private final CheckpointStore store;
    private final Map<String, Long> latest = new ConcurrentHashMap<>();
    private final Map<String, Long> dirty = new ConcurrentHashMap<>();
    private final Scheduler flusher = Schedulers.newSingle("reel-checkpoints", true);
    private final Disposable periodic;

    public SubscriptionCheckpoints(CheckpointStore store, Duration interval) {
        this.store = store;
        for (String name : store.names()) {
            store.load(name).ifPresent(c -> latest.put(name, c.position()));
        }
        this.periodic = flusher.schedulePeriodically(this::flush, interval.toMillis(), interval.toMillis(),
            java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    public Optional<Long> get(String name) {
        return Optional.ofNullable(latest.get(name));
    }

    /** How many named checkpoints a store keeps at most (each is a file, and all are in memory). */
    public static final int MAX_NAMES = 100_000;

    /**
     * Records {@code name}'s checkpoint; {@code INVALID_ARGUMENT} when the name is too long for its file, {@code TOO_LARGE}
     * when it would be a name beyond {@link #MAX_NAMES}: refused here, not at the flush that would retry it forever.
     */
    public void record(String name, long nextPosition) {
        if (!latest.containsKey(name)) {
            CheckpointStore.requireStorableName("checkpoint", name);
            if (latest.size() >= MAX_NAMES) {
                throw new ReelException(ErrorCode.TOO_LARGE, "the store keeps " + MAX_NAMES + " named checkpoints at most, and '" + name
                    + "' would be one more; reuse the names of subscriptions that are gone");
            }
        }
        latest.put(name, nextPosition);
        dirty.put(name, nextPosition);
    }

    public Map<String, Long> all() {
        return Map.copyOf(latest);
    }

    private synchronized void flush() {
        for (Map.Entry<String, Long> e : dirty.entrySet()) {
            if (dirty.remove(e.getKey(), e.getValue())) {
                try {
                    store.save(e.getKey(), e.getValue(), null);
                } catch (ReelException ex) {
                    dirty.putIfAbsent(e.getKey(), e.getValue());
                    LOG.warn("{}", ex.getMessage());
                }
            }
        }
    }

    /** Stops the periodic flush without interrupting one in progress, then writes what is left. */
    @Override
    public void close() {
        periodic.dispose();
        try {
            flusher.disposeGracefully().block(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            LOG.warn("the checkpoint flusher did not stop within 10 s: {}", e.toString());
        }
        flush();
    }
}
