package io.reel.ops.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import reactor.core.publisher.Mono;

/**
 * Independent closed-loop producers, as separate clients would be: each calls, waits for the answer, calls
 * again. Built to cost the measured system as little as possible: an answer runs the next call on the thread
 * that answered (the store's acknowledging thread, a connection's event loop), so a producer is a few fields
 * and a subscriber per call, with its own count, and latencies go to a histogram of the answering thread, all
 * merged at the end, rather than a Reactor pipeline per producer, shared atomic counters and a concurrent
 * histogram (JFR put those at 40% of the acknowledging thread of the 256-producer append bench; a histogram
 * per producer was a cache miss per sample).
 */
final class ClosedLoops {
    /** The shortest and the longest warm-up ({@link #warmUp}). */
    static final long MIN_WARMUP_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(3);
    static final long MAX_WARMUP_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    /** Runs measuring fewer events than this (a smoke test, a quick look) warm up briefly. */
    static final long SHORT_RUN_EVENTS = 100_000;
    /** The largest latency recorded as itself; longer ones are recorded as this. */
    static final long MAX_LATENCY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(60);

    /** The names {@code prefix + producer + "-" + stream} of {@code streams} streams per producer, made once. */
    static String[][] streamNames(String prefix, int producers, int streams) {
        String[][] names = new String[producers][streams];
        for (int p = 0; p < producers; p++) {
            for (int s = 0; s < streams; s++) {
                names[p][s] = prefix + p + "-" + s;
            }
        }
        return names;
    }

    /** The {@code i}-th call of producer {@code producer}. */
    interface Call {
        Mono<?> call(int producer, long i);
    }

    /** What the loops did: calls answered, and their latencies in nanoseconds (when measured). */
    record Outcome(long done, Histogram latencies) {
    }

    private ClosedLoops() {
    }

    /**
     * Runs the loops, unmeasured, until the JIT has settled: at least {@link #MIN_WARMUP_NANOS}, then second by
     * second until the compilers used less than 5% of a core in the last second (at most {@link #MAX_WARMUP_NANOS}).
     * On two cores the remote append path kept C2 busy for 20 s after a fixed 3 s warm-up, with most of a core.
     * A short run (fewer than {@link #SHORT_RUN_EVENTS} {@code events} to measure) only warms up for half a second.
     * The producers make at most {@code maxCalls} calls each on average (at most {@code producers * maxCalls} in all),
     * so that a fast store is not filled with gigabytes of warm-up (the benches allow twice the measured appends).
     * Returns the seconds it took.
     */
    static double warmUp(int producers, long events, long maxCalls, Call call) {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported() && events >= SHORT_RUN_EVENTS;
        long start = System.nanoTime();
        long first = start + (events >= SHORT_RUN_EVENTS ? MIN_WARMUP_NANOS : MIN_WARMUP_NANOS / 6);
        long left = maxCalls - run(producers, maxCalls, first, MAX_LATENCY_NANOS, call).done() / producers;
        while (timed && left > 0 && System.nanoTime() - start < MAX_WARMUP_NANOS) {
            long compiledBefore = jit.getTotalCompilationTime();
            long second = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
            left -= run(producers, left, second, MAX_LATENCY_NANOS, call).done() / producers;
            if (jit.getTotalCompilationTime() - compiledBefore < 50) {
                break;
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Runs {@code producers} loops of up to {@code perProducer} calls each, a loop stopping early once
     * {@code deadlineNanos} ({@link System#nanoTime()}; {@link Long#MAX_VALUE}: none) has passed; returns when
     * all have stopped. The first failure ends its loop and is thrown once all have stopped.
     */
    static Outcome run(int producers, long perProducer, long deadlineNanos, long maxLatencyNanos, Call call) {
        CountDownLatch finished = new CountDownLatch(producers);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        java.util.Queue<Histogram> histograms = new java.util.concurrent.ConcurrentLinkedQueue<>();
        ThreadLocal<Histogram> latencies = ThreadLocal.withInitial(() -> {
            // two significant digits (1% resolution): a tenth of the counts to keep in cache, on the thread that answers
            Histogram h = new Histogram(maxLatencyNanos, 2);
            histograms.add(h);
            return h;
        });
        Loop[] loops = new Loop[producers];
        for (int p = 0; p < producers; p++) {
            loops[p] = new Loop(p, perProducer, deadlineNanos, maxLatencyNanos, call, finished, failure, latencies);
        }
        for (Loop loop : loops) {
            loop.advance();
        }
        try {
            finished.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a call failed: " + failure.get().getMessage(), failure.get());
        }
        Histogram all = new Histogram(maxLatencyNanos, 2);
        histograms.forEach(all::add);
        long done = 0;
        for (Loop loop : loops) {
            done += loop.done;
        }
        return new Outcome(done, all);
    }

    /**
     * One producer. Calls are strictly one after another, so its fields are written by one thread at a time,
     * handed over by {@link #wip}, which also turns a call answered while it is being made into the next turn
     * of a loop instead of a deeper stack.
     */
    private static final class Loop {
        private final int producer;
        private final long perProducer;
        private final long deadlineNanos;
        private final long maxLatencyNanos;
        private final Call call;
        private final CountDownLatch finished;
        private final AtomicReference<Throwable> failure;
        private final AtomicInteger wip = new AtomicInteger();
        private final ThreadLocal<Histogram> latencies;
        long done;
        private long next;
        private long start;
        private boolean stopped;

        Loop(int producer, long perProducer, long deadlineNanos, long maxLatencyNanos, Call call, CountDownLatch finished,
             AtomicReference<Throwable> failure, ThreadLocal<Histogram> latencies) {
            this.producer = producer;
            this.perProducer = perProducer;
            this.deadlineNanos = deadlineNanos;
            this.maxLatencyNanos = maxLatencyNanos;
            this.call = call;
            this.finished = finished;
            this.failure = failure;
            this.latencies = latencies;
        }

        /** Makes the next call, unless one is being made on another thread's stack (it then makes it). */
        void advance() {
            if (wip.getAndIncrement() != 0) {
                return;
            }
            do {
                callOnce();
            } while (wip.decrementAndGet() != 0);
        }

        private void callOnce() {
            if (stopped) {
                return;
            }
            long now = System.nanoTime();
            if (next == perProducer || now - deadlineNanos >= 0) {
                stop();
                return;
            }
            start = now;
            Mono<?> m;
            try {
                m = call.call(producer, next++);
            } catch (RuntimeException e) {
                failed(e);
                return;
            }
            m.subscribe(null, this::failed, this::answered);
        }

        private void answered() {
            latencies.get().recordValue(Math.min(maxLatencyNanos, System.nanoTime() - start));
            done++;
            advance();
        }

        private void failed(Throwable e) {
            failure.compareAndSet(null, e);
            stop();
        }

        private void stop() {
            if (!stopped) {
                stopped = true;
                finished.countDown();
            }
        }
    }
}
