package io.reel.transport.internal;

import io.reel.store.RecordedEvent;
import io.reel.store.SubscriptionMessage;
import io.reel.transport.WireFormat;
import io.rsocket.Payload;
import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;
import reactor.util.concurrent.Queues;

/**
 * Turns the messages of a read or a subscription into payloads of up to {@code maxBatch} events each
 * ({@code EventBatch}, or {@code SubscriptionItem}s when the client asked for signals), where the client's
 * {@code request(n)} counts payloads.
 *
 * <p>Demand: the source is asked for at most {@code min(capacity, n × maxBatch)} records ahead, less what is
 * already buffered, and no more than fit in {@code bufferBytes} with what is buffered, counting the records asked
 * for and not yet arrived at an estimate of their size (up at once to a larger record, down slowly; so a client asking for 10,000-record batches of 100 KB
 * events holds about {@code bufferBytes}, not a gigabyte; at most 1,024 records are asked for at a time, which bounds
 * the overshoot when sizes jump); a client that stops requesting therefore holds a bounded buffer and the source
 * stops reading.
 *
 * <p>When to send a batch that is not full: while catching up (a read, or a subscription before its
 * caught-up signal) a batch waits until it is full, the source ends, or a signal must go out after it; so a
 * catch-up sends full batches. Once live it goes out as soon as the drain finds nothing more waiting, so a
 * live event is never held back for a batch to fill: batches then grow only with the rate of appends, as
 * a group commit does.
 *
 * <p>The source delivers on its own thread; payloads are built and sent on one worker of the transport's
 * scheduler, serialised by a work-in-progress counter as reactor-core's {@code publishOn} does.
 */
final class BatchingFlux extends Flux<Payload> {
    private final Flux<SubscriptionMessage> source;
    private final WireFormat format;
    private final int maxBatch;
    private final int maxBatchBytes;
    private final boolean signals;
    private final Scheduler scheduler;

    BatchingFlux(Flux<SubscriptionMessage> source, WireFormat format, int maxBatch, int maxBatchBytes, boolean signals,
                 Scheduler scheduler) {
        this.source = source;
        this.format = format;
        this.maxBatch = maxBatch;
        this.maxBatchBytes = maxBatchBytes;
        this.signals = signals;
        this.scheduler = scheduler;
    }

    @Override
    public void subscribe(CoreSubscriber<? super Payload> actual) {
        source.subscribe(new BatchingSubscriber(actual, this));
    }

    static final class BatchingSubscriber implements CoreSubscriber<SubscriptionMessage>, Subscription, Runnable {
        private static final AtomicLongFieldUpdater<BatchingSubscriber> REQUESTED =
            AtomicLongFieldUpdater.newUpdater(BatchingSubscriber.class, "requested");
        private static final AtomicIntegerFieldUpdater<BatchingSubscriber> WIP =
            AtomicIntegerFieldUpdater.newUpdater(BatchingSubscriber.class, "wip");

        private final CoreSubscriber<? super Payload> actual;
        private final WireFormat format;
        private final int maxBatch;
        private final int maxBatchBytes;
        private final boolean signals;
        private final int capacity;
        private final long bufferBytes;
        private final Scheduler.Worker worker;
        private final Queue<SubscriptionMessage> queue;
        /** Records requested from the source and not yet arrived. */
        private final AtomicLong outstanding = new AtomicLong();
        /** Messages in {@link #queue}, counted by the producer after offering and by the drain after polling. */
        private final AtomicLong queued = new AtomicLong();
        private final AtomicLong queuedBytes = new AtomicLong();
        /**
         * The estimated size of a record (up at once to a larger one, down slowly), learned as they arrive (written by
         * the source's thread, read by the drain): records requested and not yet arrived count against the byte budget
         * at this size. It starts at a size that keeps the
         * first request small, so large events are not asked for by thousands before the first is seen.
         */
        private volatile long recordBytes;
        /**
         * The most records asked for and not yet arrived: should their size jump past the estimate (small events, then
         * megabyte ones), the overshoot of the byte budget is at most this many of them.
         */
        private static final long MAX_OUTSTANDING = 1024;

        private Subscription upstream;
        private volatile long requested;
        private volatile int wip;
        private volatile boolean done;
        private volatile boolean cancelled;
        private volatile boolean live;
        private volatile boolean terminated;
        private Throwable error;

        /* Drain only. */
        private final ArrayList<RecordedEvent> batch;
        private long batchBytes;

        BatchingSubscriber(CoreSubscriber<? super Payload> actual, BatchingFlux parent) {
            this.actual = actual;
            this.format = parent.format;
            this.maxBatch = parent.maxBatch;
            this.maxBatchBytes = parent.maxBatchBytes;
            this.signals = parent.signals;
            this.capacity = Math.max(256, 2 * parent.maxBatch);
            this.bufferBytes = 2L * parent.maxBatchBytes;
            this.recordBytes = Math.max(1, bufferBytes / 8);
            this.queue = Queues.<SubscriptionMessage>get(capacity + 1).get();
            this.worker = parent.scheduler.createWorker();
            this.batch = new ArrayList<>(Math.min(parent.maxBatch, 1024));
        }

        @Override
        public void onSubscribe(Subscription s) {
            if (Operators.validate(upstream, s)) {
                upstream = s;
                actual.onSubscribe(this);
            }
        }

        @Override
        public void onNext(SubscriptionMessage message) {
            if (done || cancelled) {
                Operators.onDiscard(message, actual.currentContext());
                return;
            }
            boolean event = message instanceof SubscriptionMessage.Event;
            if (message instanceof SubscriptionMessage.CaughtUp) {
                live = true;
            }
            if (event || signals) {
                if (!queue.offer(message)) {
                    upstream.cancel();
                    onError(Operators.onOperatorError(new IllegalStateException(
                        "the source sent more than was requested"), actual.currentContext()));
                    return;
                }
                queued.incrementAndGet();
                if (event) {
                    int length = ((SubscriptionMessage.Event) message).event().encodedLength();
                    queuedBytes.addAndGet(length);
                    // what a record asked for now will likely take: up at once to a larger record, down slowly (a mean over
                    // the last few dozen), so a run of large events after small ones is not asked for by the thousand
                    long estimate = recordBytes;
                    recordBytes = length >= estimate ? length : estimate + (length - estimate) / 16;
                }
            }
            outstanding.decrementAndGet();
            schedule();
        }

        @Override
        public void onError(Throwable t) {
            if (done) {
                Operators.onErrorDropped(t, actual.currentContext());
                return;
            }
            error = t;
            done = true;
            schedule();
        }

        @Override
        public void onComplete() {
            if (!done) {
                done = true;
                schedule();
            }
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
            if (!cancelled) {
                cancelled = true;
                upstream.cancel();
                schedule();
            }
        }

        private void schedule() {
            if (WIP.getAndIncrement(this) == 0) {
                if (terminated) {
                    return;
                }
                try {
                    worker.schedule(this);
                } catch (RuntimeException rejected) {
                    cancelled = true;
                    upstream.cancel();
                }
            }
        }

        @Override
        public void run() {
            int missed = 1;
            while (true) {
                if (terminated) {
                    return;
                }
                try {
                    drain();
                } catch (RuntimeException e) {
                    // e.g. a record the wire format cannot carry: the stream ends with the error instead of going
                    // silent, which the client would only see as a hang
                    cancelled = true;
                    upstream.cancel();
                    finish();
                    actual.onError(e);
                    return;
                }
                missed = WIP.addAndGet(this, -missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        private void drain() {
            long r = requested;
            long emitted = 0;
            while (true) {
                if (cancelled) {
                    finish();
                    return;
                }
                boolean d = done;
                if (d && error != null) {
                    finish();
                    actual.onError(error);
                    return;
                }
                // Read before gather(): every event before the caught-up signal is queued before live is set, and
                // every message is queued before outstanding drops, so what these saw is already in the queue for
                // gather() to take. Read after it, they may speak of events still on their way, and a catch-up
                // batch would go out short.
                boolean wasLive = live;
                boolean allArrived = outstanding.get() == 0;
                boolean full = gather();
                SubscriptionMessage head = queue.peek();
                if (!full && head instanceof SubscriptionMessage.Event) {
                    // an event arrived after gather() found the queue empty: gather it, it is not a signal
                    continue;
                }
                if (!batch.isEmpty()) {
                    // exhausted: everything asked for is here and nothing more was asked for; whether the source has already
                    // delivered what replenish just asked for (on its own thread) must not count, or a catch-up batch goes out short
                    boolean asked = replenish(r - emitted);
                    boolean exhausted = allArrived && !asked && outstanding.get() == 0;
                    if (full || head != null || wasLive || d || exhausted) {
                        if (emitted == r) {
                            break;
                        }
                        actual.onNext(MessageCodec.batch(format, batch, signals));
                        batch.clear();
                        batchBytes = 0;
                        emitted++;
                        continue;
                    }
                    break;
                }
                if (head != null) {
                    if (emitted == r) {
                        break;
                    }
                    queue.poll();
                    queued.decrementAndGet();
                    actual.onNext(MessageCodec.item(format, head));
                    emitted++;
                    continue;
                }
                if (d) {
                    finish();
                    actual.onComplete();
                    return;
                }
                break;
            }
            if (emitted != 0 && r != Long.MAX_VALUE) {
                r = REQUESTED.addAndGet(this, -emitted);
            } else {
                r = requested;
            }
            replenish(r);
        }

        /** Moves waiting events into the batch; true when the batch is full. Stops before a signal. */
        private boolean gather() {
            while (true) {
                SubscriptionMessage m = queue.peek();
                if (!(m instanceof SubscriptionMessage.Event e)) {
                    return false;
                }
                RecordedEvent record = e.event();
                int length = record.encodedLength();
                if (!batch.isEmpty() && batchBytes + length > maxBatchBytes) {
                    return true;
                }
                queue.poll();
                queued.decrementAndGet();
                queuedBytes.addAndGet(-length);
                batch.add(record);
                batchBytes += length;
                if (batch.size() >= maxBatch) {
                    return true;
                }
            }
        }

        /**
         * Asks the source for more records when the client's remaining demand needs them and the buffer has room; true
         * when it asked.
         */
        private boolean replenish(long demand) {
            if (done || cancelled || demand <= 0) {
                return false;
            }
            long target = demand >= capacity / maxBatch + 1 ? capacity : Math.min(capacity, demand * maxBatch);
            long pending = outstanding.get();
            long mean = Math.max(1, recordBytes);
            long room = bufferBytes - queuedBytes.get() - batchBytes - pending * mean;
            if (room <= 0 && (pending > 0 || queued.get() + batch.size() > 0)) {
                return false;
            }
            long have = queued.get() + batch.size() + pending;
            if (target > have) {
                // no more than the byte budget holds at the records' estimated size (at least one, so a record larger than the
                // budget still goes through)
                long n = Math.min(Math.min(target - have, MAX_OUTSTANDING - pending), Math.max(1, room / mean));
                if (n <= 0) {
                    return false;
                }
                outstanding.addAndGet(n);
                upstream.request(n);
                return true;
            }
            return false;
        }

        private void finish() {
            terminated = true;
            queue.clear();
            batch.clear();
            worker.dispose();
        }
    }
}
