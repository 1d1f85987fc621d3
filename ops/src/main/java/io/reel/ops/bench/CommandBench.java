package io.reel.ops.bench;

import com.google.protobuf.Int64Value;
import com.google.protobuf.Message;
import io.reel.aggregate.Aggregate;
import io.reel.aggregate.AggregateRepository;
import io.reel.aggregate.Decision;
import io.reel.aggregate.EventTypes;
import io.reel.aggregate.Snapshotter;
import io.reel.aggregate.StateCodec;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;

/**
 * The {@code command} workload of {@code reel bench}: the aggregate round trip (command → decide → durable
 * append → evolve → result), measured against a plain single-event append in the same loop, and the load time
 * of a long aggregate with and without a snapshot. It uses the public aggregate API only.
 *
 * <p>Latency is measured in a closed loop from one caller thread ({@link #commandsBesideAppends} takes turns
 * between a command, a plain append and the floor's small write and force, so all three see the same disk and
 * CPU): the clock starts before {@code handle} and
 * stops in the result's {@code onNext} (on the store's acknowledging thread), so the figure holds the whole round trip,
 * including waking the writer, but not the caller's own wake-up afterwards. The workload is {@link Tally}:
 * {@code Added} events of an 8-byte {@code Int64Value}, over a set of cached aggregates.
 */
final class CommandBench {
    private static final long CALLER_SPIN_NANOS = 1_000_000;
    /** The most one measured loop runs: enough rounds for a p99 on a quiet disk, a bounded wait on a busy one. */
    static final Duration LOOP_BUDGET = Duration.ofSeconds(10);
    static final Duration WARMUP_BUDGET = Duration.ofSeconds(3);

    private CommandBench() {
    }

    /** Latency percentiles of a closed-loop run. */
    record Latency(String workload, long operations, double seconds, double p50Us, double p99Us, double p999Us) {
        double perSecond() {
            return operations / seconds;
        }
    }

    /** How long loading one aggregate of {@code events} events takes from events alone and from a snapshot (medians). */
    record LoadTimes(long events, double withoutSnapshotMs, double withSnapshotMs) {
    }

    /**
     * The command workload, the plain-append baseline and the floor's force in one loop, one of each in turn, so
     * that all three see the same machine: on a shared disk the difference of two separate runs is mostly noise.
     * Returns {@code [append, command, force]}. Each workload runs up to {@code rounds} times, or as many as fit
     * in {@link #LOOP_BUDGET} (after a warm-up of up to {@code warmup} rounds or {@link #WARMUP_BUDGET}), so that a
     * slow or busy disk still gives a figure in bounded time; {@link Latency#operations()} says how many ran.
     *
     * <p>A parking caller waits for each result as {@code block()} does, asleep in the kernel: the writer's
     * acknowledgement then wakes it with a futex call, which on a small VM costs the writer 10–20 µs and delays
     * the next append by as much. A spinning caller (as a latency-critical application would, or Aeron's
     * busy-spin idle strategy) polls for up to a millisecond first, so its figure is the store's own path.
     */
    static Latency[] commandsBesideAppends(EventStore store, FloorBench.Forcer forcer, int warmup, int rounds, int aggregates,
                                           boolean spinningCaller, AtomicLong done) {
        AggregateRepository<Long, Long> repository = AggregateRepository.create(store, new Tally());
        Long add = 1L;
        String run = System.nanoTime() + "-";
        String[] ids = ids("pair-" + run, aggregates);
        String[] names = ids("append-pair-" + run, aggregates);
        byte[] data = Int64Value.of(1).toByteArray();
        long callerSpinNanos = spinningCaller ? CALLER_SPIN_NANOS : 0;
        Mono<Long> force = Mono.fromCallable(forcer::forceOnce);
        return closedLoop(new String[] {"append", "command", "force"}, warmup, rounds, callerSpinNanos, done, (i, which) -> switch (which) {
            case 0 -> store.append(names[i % names.length], ExpectedRevision.ANY, EventData.of(null, "Added", EventData.PROTOBUF, data, null));
            case 1 -> repository.handle(ids[i % ids.length], add);
            default -> force;
        });
    }

    /**
     * Writes one tally of {@code events} events, then loads it (in a fresh repository each time, so from the
     * log) without snapshots and, after the {@link Snapshotter} has written one at its last event, with it.
     */
    static LoadTimes load(EventStore store, int events) {
        String id = "load-" + System.nanoTime();
        Tally tally = new Tally();
        String stream = Tally.NAME + "-" + id;
        byte[] data = Int64Value.of(1).toByteArray();
        for (int written = 0; written < events; ) {
            int n = Math.min(1000, events - written);
            List<EventData> batch = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                batch.add(EventData.of(null, "Added", EventData.PROTOBUF, data, null));
            }
            store.append(stream, ExpectedRevision.ANY, batch).block();
            written += n;
        }
        double without = medianLoadMillis(store, tally, id, false, events);
        try (Snapshotter snapshotter = Snapshotter.builder(store).add(tally).every(events).name("bench-snapshotter-" + id).start()) {
            long head = store.headPosition();
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (snapshotter.position() < head && System.nanoTime() < deadline) {
                LockSupport.parkNanos(1_000_000);
            }
        }
        double with = medianLoadMillis(store, tally, id, true, events);
        return new LoadTimes(events, without, with);
    }

    private static double medianLoadMillis(EventStore store, Tally tally, String id, boolean snapshots, long expected) {
        Latencies times = new Latencies();
        for (int run = -15; run < 7; run++) {
            AggregateRepository<Long, Long> repository = AggregateRepository.builder(store, tally).readSnapshots(snapshots).build();
            long t0 = System.nanoTime();
            Long total = repository.state(id).block();
            long t1 = System.nanoTime();
            if (total == null || total != expected) {
                throw new IllegalStateException("loaded " + total + ", expected a total of " + expected);
            }
            if (run >= 0) {
                times.record(t1 - t0);
            }
        }
        return times.p50() / 1e3;
    }

    private static String[] ids(String prefix, int n) {
        String[] ids = new String[n];
        for (int i = 0; i < n; i++) {
            ids[i] = prefix + i;
        }
        return ids;
    }

    private interface Alternating {
        Mono<?> start(int i, int which);
    }

    /**
     * Runs every workload in turn, round after round: up to {@code warmup} rounds unmeasured (at most
     * {@link #WARMUP_BUDGET}), then up to {@code count} measured ones (at most {@link #LOOP_BUDGET}, at least one).
     * One latency per workload.
     */
    private static Latency[] closedLoop(String[] workloads, int warmup, int count, long callerSpinNanos, AtomicLong done,
                                        Alternating operation) {
        int n = workloads.length;
        Latencies[] samples = new Latencies[n];
        long[] busy = new long[n];
        for (int w = 0; w < n; w++) {
            samples[w] = new Latencies();
        }
        Probe probe = new Probe(Thread.currentThread());
        int round = 0;
        long warmupEnd = System.nanoTime() + WARMUP_BUDGET.toNanos();
        for (int i = 0; i < warmup && System.nanoTime() - warmupEnd < 0; i++) {
            for (int w = 0; w < n; w++) {
                await(probe, workloads[w], operation, round, w, callerSpinNanos);
            }
            round++;
        }
        long measuredEnd = System.nanoTime() + LOOP_BUDGET.toNanos();
        int measured = 0;
        while (measured < count && (measured == 0 || System.nanoTime() - measuredEnd < 0)) {
            for (int w = 0; w < n; w++) {
                long t0 = await(probe, workloads[w], operation, round, w, callerSpinNanos);
                samples[w].record(probe.end - t0);
                busy[w] += System.nanoTime() - t0;
            }
            round++;
            measured++;
            done.incrementAndGet();
        }
        Latency[] result = new Latency[n];
        for (int w = 0; w < n; w++) {
            result[w] = new Latency(workloads[w], measured, busy[w] / 1e9, samples[w].p50(), samples[w].p99(), samples[w].p999());
        }
        return result;
    }

    /** Starts one operation and waits for its result; returns the time it started ({@code probe.end} holds the result's). */
    private static long await(Probe probe, String workload, Alternating operation, int round, int which, long callerSpinNanos) {
        probe.reset();
        long t0 = System.nanoTime();
        operation.start(round, which).subscribe(probe);
        long spinUntil = System.nanoTime() + callerSpinNanos;
        while (!probe.done && System.nanoTime() - spinUntil < 0) {
            Thread.yield(); // on two cores, a thread the result waits for may need this one
        }
        probe.parked = true;
        while (!probe.done) {
            LockSupport.park(probe);
        }
        probe.parked = false;
        if (probe.error != null) {
            throw new IllegalStateException(workload + " " + round + " failed: " + probe.error, probe.error);
        }
        return t0;
    }

    /** Stops the clock in {@code onNext}, wherever that runs, and wakes the caller. */
    private static final class Probe implements CoreSubscriber<Object> {
        private final Thread caller;
        volatile boolean done;
        volatile long end;
        volatile Throwable error;
        /** Set by the caller before it parks: only then does the result need the unpark (a futex call). */
        volatile boolean parked;

        Probe(Thread caller) {
            this.caller = caller;
        }

        void reset() {
            done = false;
            error = null;
        }

        @Override
        public void onSubscribe(Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(Object value) {
            end = System.nanoTime();
        }

        @Override
        public void onError(Throwable t) {
            error = t;
            done = true;
            if (parked) {
                LockSupport.unpark(caller);
            }
        }

        @Override
        public void onComplete() {
            done = true;
            if (parked) {
                LockSupport.unpark(caller);
            }
        }
    }

    /** The bench's aggregate: a running total of {@code Added} amounts (an {@code Int64Value}); snapshots are 8 bytes. */
    static final class Tally implements Aggregate<Long, Long> {
        static final String NAME = "tally";
        private static final EventTypes EVENTS = EventTypes.builder().add("Added", Int64Value.getDefaultInstance()).build();
        private static final StateCodec<Long> CODEC = StateCodec.of(1, total -> ByteBuffer.allocate(8).putLong(total).array(),
            bytes -> ByteBuffer.wrap(bytes).getLong());

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public EventTypes eventTypes() {
            return EVENTS;
        }

        @Override
        public Long initial(String id) {
            return 0L;
        }

        @Override
        public Decision decide(Long total, Long amount) {
            return Decision.accept(Int64Value.of(amount));
        }

        @Override
        public Long evolve(Long total, Message event) {
            return total + ((Int64Value) event).getValue();
        }

        @Override
        public StateCodec<Long> stateCodec() {
            return CODEC;
        }
    }
}
