package io.reel.store.internal.subscription;

import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.PositionReader;
import io.reel.store.internal.log.RecentRecords;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;

/**
 * A {@code $all} read: emits the matching records as its subscriber requests them, on one reader thread, and gives
 * that thread back after every {@value #SCAN_PER_TURN} records it scans, matching or not. A filter that matches rarely
 * thus lets the reads queued on the same thread go between its turns, instead of holding the thread while it scans
 * the whole log for one match. Everything but {@link #request} and {@link #cancel} runs on the read's thread.
 */
public final class AllRead extends Flux<RecordedEvent> {
    /** Records one turn on the reader thread scans at most. */
    static final int SCAN_PER_TURN = 4096;

    private final Log log;
    private final RecentRecords recent;
    private final long fromPosition;
    private final long maxCount;
    private final Direction direction;
    private final EventFilter filter;
    private final Scheduler readers;

    /**
     * A read of the log from {@code fromPosition} ({@link EventSource#END}: the head), at most {@code maxCount}
     * records (0: all) that match {@code filter}, up to the head when it is subscribed, on a thread of {@code readers}.
     */
    public AllRead(Log log, RecentRecords recent, long fromPosition, long maxCount, Direction direction, EventFilter filter, Scheduler readers) {
        this.log = log;
        this.recent = recent;
        this.fromPosition = fromPosition;
        this.maxCount = maxCount;
        this.direction = direction;
        this.filter = filter;
        this.readers = readers;
    }

    @Override
    public void subscribe(CoreSubscriber<? super RecordedEvent> actual) {
        Drain drain = new Drain(actual, readers.createWorker(), log.head());
        actual.onSubscribe(drain);
    }

    private final class Drain implements Subscription, Runnable {
        private final CoreSubscriber<? super RecordedEvent> actual;
        private final Scheduler.Worker thread;
        private final Log.Head head;
        private final AtomicLong requested = new AtomicLong();
        private final AtomicInteger wip = new AtomicInteger();
        private final ArrayDeque<RecordedEvent> buffer = new ArrayDeque<>();
        private volatile boolean cancelled;
        private LogCursor cursor;
        private PositionReader backwards;
        private long remaining = maxCount == 0 ? Long.MAX_VALUE : maxCount;
        private long nextBackwards;
        /** Set once the read ended (completed, failed, cancelled): later requests and cancels do nothing. */
        private volatile boolean done;

        Drain(CoreSubscriber<? super RecordedEvent> actual, Scheduler.Worker thread, Log.Head head) {
            this.actual = actual;
            this.thread = thread;
            this.head = head;
            this.nextBackwards = Math.min(fromPosition, head.position() - 1);
        }

        @Override
        public void request(long n) {
            if (Operators.validate(n)) {
                requested.accumulateAndGet(n, Operators::addCap);
                schedule();
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            schedule();
        }

        private void schedule() {
            if (wip.getAndIncrement() == 0) {
                turn();
            }
        }

        /** Schedules the next turn; only one is scheduled or running at a time (the caller raised {@link #wip}). */
        private void turn() {
            try {
                thread.schedule(this);
            } catch (RejectedExecutionException e) {
                if (!done) {
                    finish(cancelled ? null : new ReelException(ErrorCode.CLOSED, "the store was closed"), false);
                }
            }
        }

        /** One turn: emits what is asked, scanning at most {@value #SCAN_PER_TURN} records, then yields or rests. */
        @Override
        public void run() {
            if (done) {
                return;
            }
            try {
                drain();
            } catch (RuntimeException e) {
                finish(e, false);
            }
        }

        private void drain() {
            int scanned = 0;
            int missed = 1;
            do {
                long r = requested.get();
                long e = 0;
                while (e != r) {
                    if (cancelled) {
                        finish(null, false);
                        return;
                    }
                    if (remaining == 0 || (buffer.isEmpty() && !refill())) {
                        finish(null, true);
                        return;
                    }
                    if (scanned++ == SCAN_PER_TURN) {
                        produced(e);
                        turn();    // wip stays raised: the next turn continues this one
                        return;
                    }
                    RecordedEvent record = buffer.poll();
                    if (filter.matches(record)) {
                        remaining--;
                        actual.onNext(record);
                        e++;
                    }
                }
                if (cancelled) {
                    finish(null, false);
                    return;
                }
                if (remaining == 0) {
                    finish(null, true);
                    return;
                }
                produced(e);
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }

        private void produced(long e) {
            if (e != 0 && requested.get() != Long.MAX_VALUE) {
                requested.addAndGet(-e);
            }
        }

        /** False at the end of the read; a failure to read is thrown ({@code IO_ERROR}) and ends the read with it. */
        private boolean refill() {
            try {
                if (direction == Direction.FORWARDS) {
                    if (cursor == null) {
                        cursor = new LogCursor(log, recent, fromPosition == EventSource.END ? head.position() : fromPosition);
                    }
                    return cursor.read(buffer, LogSubscription.CHUNK, head) > 0;
                }
                if (backwards == null) {
                    backwards = new PositionReader(log, recent);
                }
                List<RecordedEvent> block = nextBackwards < 0 ? List.of() : backwards.blockBackwards(nextBackwards, head);
                if (block.isEmpty()) {
                    return false;
                }
                buffer.addAll(block);
                nextBackwards = block.get(block.size() - 1).position() - 1;
                return true;
            } catch (IOException e) {
                throw new ReelException(ErrorCode.IO_ERROR, "reading the log failed: " + e, e);
            }
        }

        private void finish(Throwable error, boolean complete) {
            done = true;
            buffer.clear();
            if (cursor != null) {
                cursor.close();
            }
            if (backwards != null) {
                backwards.close();
            }
            thread.dispose();
            if (error != null) {
                actual.onError(error);
            } else if (complete) {
                actual.onComplete();
            }
        }
    }
}
