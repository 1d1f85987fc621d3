package io.reel.store.internal.subscription;

import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.SubscriptionMessage;
import io.reel.store.SubscriptionStatus;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.RecentRecords;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;

/**
 * One subscription: a cursor over the log that delivers, in position order, what its subscriber requests,
 * first catching up from the files or the cache and then following the head.
 *
 * <p>Demand-driven: it reads only while {@code request(n)} demand is outstanding, at most one chunk ahead
 * ({@value #CHUNK} records), so a subscriber that stops requesting holds at most one chunk of records and
 * slows no one. At the head it parks in the {@link ProjectorStage} and is woken by the next commit; it never
 * drops a subscriber for being slow, and never completes.
 *
 * <p>All reading and every signal happen on one worker of the scheduler it is given (the store's subscription
 * threads; the indexer's own thread for the indexer), serialised by a work-in-progress counter as reactor-core's
 * operators do.
 */
public final class LogSubscription implements Subscription, Runnable {
    public static final int CHUNK = 512;

    private static final AtomicLongFieldUpdater<LogSubscription> REQUESTED =
        AtomicLongFieldUpdater.newUpdater(LogSubscription.class, "requested");
    private static final AtomicIntegerFieldUpdater<LogSubscription> WIP =
        AtomicIntegerFieldUpdater.newUpdater(LogSubscription.class, "wip");

    private final CoreSubscriber<? super SubscriptionMessage> actual;
    private final Log log;
    private final RecentRecords recent;
    private final java.time.Clock clock;
    private final ProjectorStage projector;
    private final Scheduler.Worker worker;
    private final EventFilter filter;
    private final int checkpointInterval;
    private final String name;
    private final long id;
    private final LogCursor cursor;
    private final ArrayDeque<RecordedEvent> buffer = new ArrayDeque<>();
    private final AtomicBoolean parked = new AtomicBoolean();

    private volatile long requested;
    private volatile int wip;
    private volatile boolean cancelled;
    private volatile ReelException failure;
    private volatile long nextPosition;
    private volatile boolean caughtUp;
    private volatile Thread drainer;

    /* Worker only. */
    private boolean caughtUpPending;
    private long scannedSinceMessage;
    private boolean checkpointAtHead;
    private boolean done;

    public LogSubscription(CoreSubscriber<? super SubscriptionMessage> actual, Log log, RecentRecords recent, java.time.Clock clock,
                    ProjectorStage projector, Scheduler on, long fromPosition, EventFilter filter, int checkpointInterval, String name) {
        this.actual = actual;
        this.log = log;
        this.recent = recent;
        this.clock = clock;
        this.projector = projector;
        this.worker = on.createWorker();
        this.filter = filter;
        this.checkpointInterval = checkpointInterval;
        this.cursor = new LogCursor(log, recent, fromPosition);
        this.nextPosition = fromPosition;
        this.id = projector.register(this);
        this.name = name != null ? name : "anonymous-" + id;
    }

    /** See {@link io.reel.store.SubscribeOptions#checkpointAtHead()}; set before {@link #start()}. */
    public LogSubscription checkpointAtHead(boolean value) {
        checkpointAtHead = value;
        return this;
    }

    public void start() {
        actual.onSubscribe(this);
    }

    @Override
    public void request(long n) {
        if (Operators.validate(n)) {
            Operators.addCap(REQUESTED, this, n);
            schedule();
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        schedule();
    }

    /** The projector saw the head move while this cursor was parked. */
    void wake() {
        parked.set(false);
        schedule();
    }

    void fail(ReelException error) {
        failure = error;
        schedule();
    }

    private void schedule() {
        if (WIP.getAndIncrement(this) == 0) {
            try {
                worker.schedule(this);
            } catch (RuntimeException rejected) {
                cancelled = true;
                try {
                    actual.onError(new ReelException(ErrorCode.CLOSED, "subscription '" + name + "' could not be served: its reader"
                        + " refused it (" + rejected + "); subscribe again"));
                } finally {
                    cleanUp();
                }
            }
        }
    }

    @Override
    public void run() {
        drainer = Thread.currentThread();
        try {
            int missed = 1;
            while (true) {
                if (done) {
                    return;
                }
                drain();
                missed = WIP.addAndGet(this, -missed);
                if (missed == 0) {
                    return;
                }
            }
        } finally {
            drainer = null;
        }
    }

    /** True while {@code thread} is delivering this subscription's signals (a subscriber that closes the store). */
    boolean deliveringOn(Thread thread) {
        return drainer == thread;
    }

    private void drain() {
        long r = requested;
        long emitted = 0;
        while (true) {
            if (cancelled) {
                cleanUp();
                return;
            }
            ReelException error = failure;
            if (error != null) {
                // told first, released after: a closing store waits for its subscriptions to be released
                try {
                    actual.onError(error);
                } finally {
                    cleanUp();
                }
                return;
            }
            if (emitted == r) {
                break;
            }
            if (caughtUpPending) {
                caughtUpPending = false;
                scannedSinceMessage = 0;
                actual.onNext(new SubscriptionMessage.CaughtUp(nextPosition));
                emitted++;
                continue;
            }
            if (checkpointInterval > 0 && scannedSinceMessage >= checkpointInterval) {
                scannedSinceMessage = 0;
                actual.onNext(new SubscriptionMessage.Checkpoint(nextPosition));
                emitted++;
                continue;
            }
            RecordedEvent record = buffer.poll();
            if (record == null) {
                if (!fill()) {
                    break;
                }
                continue;
            }
            nextPosition = record.position() + 1;
            if (filter.matches(record)) {
                scannedSinceMessage = 0;
                actual.onNext(new SubscriptionMessage.Event(record));
                emitted++;
            } else {
                scannedSinceMessage++;
            }
        }
        if (emitted != 0 && r != Long.MAX_VALUE) {
            REQUESTED.addAndGet(this, -emitted);
        }
    }

    /** Reads the next chunk into the buffer; false when at the head (then parked, or a caught-up signal is due). */
    private boolean fill() {
        Log.Head head = log.head();
        if (cursor.position() >= head.position()) {
            if (!caughtUp) {
                caughtUp = true;
                caughtUpPending = true;
                return true;
            }
            if (checkpointAtHead && checkpointInterval > 0 && scannedSinceMessage > 0) {
                // records were skipped since the last message and there are no more: say how far the scan got, so a
                // consumer idle at the head (a filtered group or projection) stands at the head, not up to an interval behind
                scannedSinceMessage = checkpointInterval;
                return true;
            }
            if (parked.compareAndSet(false, true)) {
                projector.park(this);
            }
            if (log.head().position() > cursor.position()) {
                return fill();
            }
            return false;
        }
        try {
            cursor.read(buffer, CHUNK, head);
        } catch (IOException e) {
            failure = new ReelException(ErrorCode.IO_ERROR, "reading the log for subscription '" + name + "' failed: " + e, e);
        } catch (ReelException e) {
            failure = e;
        } catch (RuntimeException e) {
            // told to the subscriber like any failure: escaping, it would leave the subscription neither ended nor released
            failure = new ReelException(ErrorCode.INTERNAL, "reading the log for subscription '" + name + "' failed unexpectedly: " + e, e);
        }
        return true;
    }

    private void cleanUp() {
        if (!done) {
            done = true;
            buffer.clear();
            cursor.close();
            projector.unregister(id);
            if (parked.get()) {
                projector.unpark(this);   // a cancelled subscription must not wait in the parked queue for the next commit
            }
            worker.dispose();
        }
    }

    /**
     * Diagnostics (and the tests of bounded memory): records read ahead of the subscriber, their encoded
     * bytes, and the position the cursor reads next. Worker-owned state, exact while the subscription is idle
     * (no demand, or parked): reading {@code wip} first makes the worker's last run visible.
     */
    public int readAheadRecords() {
        return wip == 0 ? buffer.size() : -1;
    }

    public long readAheadBytes() {
        if (wip != 0) {
            return -1;
        }
        long bytes = 0;
        for (RecordedEvent r : buffer) {
            bytes += r.encodedLength();
        }
        return bytes;
    }

    public long readPosition() {
        return wip == 0 ? cursor.position() : -1;
    }

    public String name() {
        return name;
    }

    /**
     * Position and lag. The lag in seconds is the age of the oldest record not yet delivered (now minus its
     * commit time), 0 when caught up: it keeps growing while a subscriber is stuck, as Kafka's time lag does.
     * Reads that one record (from the cache, usually): call it from a thread that may do file I/O.
     */
    public SubscriptionStatus status(Log.Head head) {
        long position = nextPosition;
        long lagEvents = Math.max(0, head.position() - position);
        return new SubscriptionStatus(name, filter.toString(), position, lagEvents, lagEvents == 0 ? 0 : ageOfRecordAt(position, head),
            caughtUp);
    }

    private double ageOfRecordAt(long position, Log.Head head) {
        java.util.ArrayList<RecordedEvent> next = new java.util.ArrayList<>(1);
        try (LogCursor cursor = new LogCursor(log, recent, position)) {
            if (cursor.read(next, 1, head) == 0) {
                return 0;
            }
        } catch (IOException | ReelException e) {
            return 0;
        }
        return Math.max(0, (LogFormat.micros(clock.instant()) - next.get(0).timestampMicros()) / 1e6);
    }
}
