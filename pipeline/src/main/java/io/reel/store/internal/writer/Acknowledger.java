package io.reel.store.internal.writer;

import io.reel.store.AppendResult;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.NonBlocking;

/**
 * Completes the appends' {@code Mono}s off the writer thread: the writer collects the outcomes of one group
 * commit (acknowledgements and rejections, in the order it decided them) and hands them over in one piece; this
 * class's own thread, {@code reel-acks}, signals them.
 *
 * <p>What a completion costs is the subscriber's business: mapping the result, encoding an answer for the
 * network, waking a Netty event loop or a blocked caller. Done on the writer thread, all of that would sit
 * between one force and the next batch, serially, for every append; here the writer goes back to its queue
 * after one queue offer and at most one unpark per batch.
 *
 * <p>Order: outcomes are signalled in the order they were collected, batch after batch. Bounded: the writer
 * waits before handing over more when {@link #MAX_PENDING} outcomes are still waiting (a subscriber that takes
 * that long slows the writer down rather than growing a queue). The thread is marked {@link NonBlocking}: a
 * {@code block()} in a subscriber fails fast instead of stalling every acknowledgement.
 */
final class Acknowledger {
    private static final Logger LOG = LoggerFactory.getLogger(Acknowledger.class);
    static final int MAX_PENDING = 1 << 16;
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(20);

    private final ConcurrentLinkedQueue<Handed> handedOver = new ConcurrentLinkedQueue<>();
    /** Told the submit-to-acknowledgement nanos of every acknowledged append, on this class's thread. */
    private final java.util.function.LongConsumer latency;
    private final AtomicInteger pending = new AtomicInteger();
    private final Thread thread;
    private volatile boolean parked;
    private volatile boolean closing;
    /** Until when a hand-over is expected (a batch is being forced): the thread spins instead of parking. */
    private volatile long expectedUntil;

    /* Writer thread only: the outcomes collected for the next hand-over, as sink, outcome pairs, and when each was submitted. */
    private Object[] collected = new Object[64];
    private long[] submitted = new long[32];
    private int size;

    /** One hand-over: sink, outcome pairs, and the submit time of each (0: not measured). */
    private record Handed(Object[] outcomes, long[] submitted) {
    }

    Acknowledger(java.util.function.LongConsumer latency) {
        this.latency = latency;
        this.thread = new AckThread(this::run);
    }

    /** The acknowledging thread: marked non-blocking so that {@code block()} on it fails fast. */
    private static final class AckThread extends Thread implements NonBlocking {
        AckThread(Runnable body) {
            super(body, "reel-acks");
            setDaemon(true);
        }
    }

    void start() {
        thread.start();
    }

    /**
     * Writer thread: {@code sink} succeeds with {@code result} at the next hand-over, and the latency since
     * {@code submittedNanos} is recorded then, off the writer thread.
     */
    void success(MonoSink<AppendResult> sink, AppendResult result, long submittedNanos) {
        add(sink, result, submittedNanos);
    }

    /** Writer thread: {@code sink} fails with {@code error} at the next hand-over. */
    void failure(MonoSink<AppendResult> sink, Throwable error) {
        add(sink, error, 0);
    }

    private void add(MonoSink<AppendResult> sink, Object outcome, long submittedNanos) {
        if (size + 2 > collected.length) {
            collected = java.util.Arrays.copyOf(collected, collected.length * 2);
            submitted = java.util.Arrays.copyOf(submitted, collected.length / 2);
        }
        submitted[size / 2] = submittedNanos;
        collected[size++] = sink;
        collected[size++] = outcome;
    }

    /**
     * Writer thread, before it forces a batch whose appends wait for their outcomes: the hand-over comes within
     * {@code withinNanos} (the force's usual length, bounded), so this thread spins for it instead of parking,
     * and a lone caller's acknowledgement does not wait for a thread wake-up on top of the force.
     */
    void expectHandOver(long withinNanos) {
        expectedUntil = System.nanoTime() + withinNanos;
    }

    /** Writer thread: hands what was collected over to the acknowledging thread, in one piece. */
    void handOver() {
        if (size == 0) {
            return;
        }
        Handed handed = new Handed(java.util.Arrays.copyOf(collected, size), java.util.Arrays.copyOf(submitted, size / 2));
        java.util.Arrays.fill(collected, 0, size, null);
        size = 0;
        while (pending.get() > MAX_PENDING && thread.isAlive()) {
            LockSupport.parkNanos(this, TimeUnit.MICROSECONDS.toNanos(50));
        }
        pending.addAndGet(handed.submitted.length);
        handedOver.offer(handed);
        if (parked) {
            LockSupport.unpark(thread);
        }
        if (!thread.isAlive()) {
            drain();
        }
    }

    /** After the writer has stopped: signals what is left and ends the thread. */
    void close() {
        closing = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.MINUTES.toMillis(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drain();
    }

    private void run() {
        while (true) {
            if (drain()) {
                continue;
            }
            if (closing) {
                drain();
                return;
            }
            long until = System.nanoTime() + SPIN_NANOS;
            while (handedOver.isEmpty() && !closing && System.nanoTime() - Math.max(until, expectedUntil) < 0) {
                Thread.onSpinWait();
            }
            if (!handedOver.isEmpty() || closing) {
                continue;
            }
            parked = true;
            if (handedOver.isEmpty() && !closing) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
            }
            parked = false;
        }
    }

    /** Signals everything handed over so far; false when there was nothing. */
    private synchronized boolean drain() {
        boolean any = false;
        for (Handed h = handedOver.poll(); h != null; h = handedOver.poll()) {
            any = true;
            Object[] outcomes = h.outcomes;
            long now = System.nanoTime();
            for (int i = 0; i < outcomes.length; i += 2) {
                long submittedNanos = h.submitted[i / 2];
                if (submittedNanos != 0) {
                    latency.accept(now - submittedNanos);
                }
                signal(outcomes[i], outcomes[i + 1]);
            }
            pending.addAndGet(-h.submitted.length);
        }
        return any;
    }

    @SuppressWarnings("unchecked")
    private static void signal(Object sink, Object outcome) {
        MonoSink<AppendResult> s = (MonoSink<AppendResult>) sink;
        try {
            if (outcome instanceof AppendResult r) {
                s.success(r);
            } else {
                s.error((Throwable) outcome);
            }
        } catch (RuntimeException | Error e) {
            LOG.error("a subscriber of an append failed while being told its outcome; the other appends go on", e);
        }
    }
}
