package io.reel.store.internal.subscription;

import io.reel.store.ReelException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The Projector stage: fans committed records out to every subscription.
 *
 * <p>A subscription is a cursor over the log. When it reaches the head with demand left, it parks here;
 * after each commit the writer calls {@link #onCommit()}, which costs one check when nobody is parked and
 * otherwise schedules a single fan-out task on the projector's own thread that wakes every parked cursor.
 * Each woken cursor reads the new records from the recent-records cache on its own worker. A subscriber
 * that requests nothing is not parked and costs nothing per commit; a thousand idle live subscriptions cost
 * a thousand wake-ups per commit, done off the writer thread.
 *
 * <p>No lost wake-up: a cursor parks first and checks the head again after; a commit publishes the head
 * first and wakes after. Whichever comes second sees the other.
 */
public final class ProjectorStage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProjectorStage.class);

    private final ConcurrentLinkedQueue<LogSubscription> parked = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean fanOutScheduled = new AtomicBoolean();
    private final Scheduler fanOut = Schedulers.newSingle("reel-projector", true);
    private final Scheduler readers;
    private final Scheduler subscribers;
    private final Scheduler indexing = Schedulers.newSingle("reel-indexer", true);
    private final ConcurrentHashMap<Long, LogSubscription> active = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    public ProjectorStage() {
        int threads = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
        this.readers = Schedulers.newBoundedElastic(threads, 100_000, "reel-read", 60, true);
        this.subscribers = Schedulers.newBoundedElastic(threads, 100_000, "reel-subscription", 60, true);
    }

    /** The scheduler on which reads run: file I/O never touches a caller's thread. */
    public Scheduler readers() {
        return readers;
    }

    /**
     * The scheduler on which subscriptions run and deliver. Apart from the reads' one: a subscriber's handler runs
     * on these threads, and one that is slow (or blocks) must not hold up the reads of every other client.
     */
    public Scheduler subscribers() {
        return subscribers;
    }

    /**
     * The indexer's own thread. Reads wait for the index, so it must never queue behind a subscriber that is slow
     * to take its records on a shared reader thread: one such subscriber would stall every stream read.
     */
    public Scheduler indexing() {
        return indexing;
    }

    long register(LogSubscription subscription) {
        long id = ids.incrementAndGet();
        active.put(id, subscription);
        return id;
    }

    void unregister(long id) {
        active.remove(id);
    }

    public Collection<LogSubscription> subscriptions() {
        return List.copyOf(active.values());
    }

    void park(LogSubscription subscription) {
        parked.add(subscription);
    }

    void unpark(LogSubscription subscription) {
        parked.remove(subscription);
    }

    /** Called by the writer after it has published a new head. */
    public void onCommit() {
        if (!parked.isEmpty() && fanOutScheduled.compareAndSet(false, true)) {
            fanOut.schedule(this::wakeParked);
        }
    }

    private void wakeParked() {
        fanOutScheduled.set(false);
        LogSubscription s;
        while ((s = parked.poll()) != null) {
            s.wake();
        }
    }

    /**
     * Ends every subscription with {@code error} (the store is closing) and waits, up to {@code timeout}, until
     * each has delivered it: the readers are disposed next, and a signal still queued for them would be lost,
     * leaving a subscriber that never hears the store closed.
     */
    public void failAll(ReelException error, Duration timeout) {
        for (LogSubscription s : active.values()) {
            s.fail(error);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Thread self = Thread.currentThread();
        while (true) {
            List<String> waiting = active.values().stream().filter(s -> !s.deliveringOn(self)).map(LogSubscription::name).toList();
            if (waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                LOG.warn("closing: {} subscription(s) did not take their CLOSED error within {} ms, their subscribers are busy: {}",
                    waiting.size(), timeout.toMillis(), waiting);
                return;
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Override
    public void close() {
        fanOut.dispose();
        readers.dispose();
        subscribers.dispose();
        indexing.dispose();
    }
}
