package io.reel.aggregate;

import com.google.protobuf.Int64Value;
import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;

/**
 * The {@code command} workload of {@code reel bench}: the aggregate round trip (command → decide → durable
 * append → evolve → result), measured against a plain single-event append in the same loop, and the load time
 * of a long aggregate with and without a snapshot.
 *
 * <p>Latency is measured in a closed loop from one caller thread ({@link #commandsBesideAppends} alternates a
 * command and a plain append, so both see the same disk and CPU): the clock starts before {@code handle} and
 * stops in the result's {@code onNext} (on the store's acknowledging thread), so the figure holds the whole round trip,
 * including waking the writer, but not the caller's own wake-up afterwards. The workload is
 * {@link CounterAggregate}: {@code Added} events of an 8-byte {@code Int64Value}, over a set of cached aggregates.
 *
 * <p>Run alone: {@code java -cp ... io.reel.aggregate.CommandBenchmark DIR [fsync|batched:MS] [COMMANDS] [LOAD_EVENTS]}.
 */
public final class CommandBenchmark {
    private static final long CALLER_SPIN_NANOS = 1_000_000;

    private CommandBenchmark() {
    }

    /** Latency percentiles of a closed-loop run. */
    public record Latency(String workload, long operations, double seconds, double p50Us, double p99Us, double p999Us) {
        public double perSecond() {
            return operations / seconds;
        }

        /** One line of {@code reel bench --json}. */
        public String toJson() {
            return String.format(Locale.ROOT, "{\"workload\":\"%s\",\"events\":%d,\"seconds\":%.3f,\"events_per_sec\":%.0f,"
                + "\"mb_per_sec\":0,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f}", workload, operations, seconds, perSecond(), p50Us,
                p99Us, p999Us);
        }
    }

    /** How long loading one aggregate of {@code events} events takes from events alone and from a snapshot (medians). */
    public record LoadTimes(long events, double withoutSnapshotMs, double withSnapshotMs) {
    }

    /**
     * The command workload and the plain-append baseline in one loop, alternating one of each, so that both see
     * the same machine: on a shared disk the difference of two separate runs is mostly noise. Returns
     * {@code [append, command]}.
     *
     * <p>A parking caller waits for each result as {@code block()} does, asleep in the kernel: the writer's
     * acknowledgement then wakes it with a futex call, which on a small VM costs the writer 10–20 µs and delays
     * the next append by as much. A spinning caller (as a latency-critical application would, or Aeron's
     * busy-spin idle strategy) polls for up to a millisecond first, so its figure is the store's own path.
     */
    public static Latency[] commandsBesideAppends(EventStore store, int warmup, int commands, int aggregates, boolean spinningCaller) {
        AggregateRepository<CounterAggregate.Counter, CounterAggregate.Add> repository =
            AggregateRepository.create(store, new CounterAggregate());
        CounterAggregate.Add add = new CounterAggregate.Add(1);
        String run = System.nanoTime() + "-";
        String[] ids = ids("pair-" + run, aggregates);
        String[] names = ids("append-pair-" + run, aggregates);
        byte[] data = Int64Value.of(1).toByteArray();
        long callerSpinNanos = spinningCaller ? CALLER_SPIN_NANOS : 0;
        Latency[] both = closedLoop(new String[] {"append", "command"}, warmup, commands, callerSpinNanos, (i, which) -> which == 0
            ? store.append(names[i % names.length], ExpectedRevision.ANY, EventData.of(null, "Added", EventData.PROTOBUF, data, null))
            : repository.handle(ids[i % ids.length], add));
        return both;
    }

    /**
     * Writes one counter of {@code events} events, then loads it (in a fresh repository each time, so from the
     * log) without snapshots and, after the {@link Snapshotter} has written one at its last event, with it.
     */
    public static LoadTimes load(EventStore store, int events) {
        String id = "load-" + System.nanoTime();
        CounterAggregate counter = new CounterAggregate();
        String stream = CounterAggregate.NAME + "-" + id;
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
        double without = medianLoadMillis(store, counter, id, false, events);
        try (Snapshotter snapshotter = Snapshotter.builder(store).add(counter).every(events).name("bench-snapshotter-" + id).start()) {
            long head = store.headPosition();
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (snapshotter.position() < head && System.nanoTime() < deadline) {
                LockSupport.parkNanos(1_000_000);
            }
        }
        double with = medianLoadMillis(store, counter, id, true, events);
        return new LoadTimes(events, without, with);
    }

    private static double medianLoadMillis(EventStore store, CounterAggregate counter, String id, boolean snapshots, long expected) {
        double[] times = new double[7];
        for (int run = -15; run < times.length; run++) {
            AggregateRepository<CounterAggregate.Counter, CounterAggregate.Add> repository =
                AggregateRepository.builder(store, counter).readSnapshots(snapshots).build();
            long t0 = System.nanoTime();
            CounterAggregate.Counter state = repository.state(id).block();
            long t1 = System.nanoTime();
            if (state == null || state.total() != expected) {
                throw new IllegalStateException("loaded " + state + ", expected a total of " + expected);
            }
            if (run >= 0) {
                times[run] = (t1 - t0) / 1e6;
            }
        }
        Arrays.sort(times);
        return times[times.length / 2];
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

    /** Runs {@code count} rounds of every workload in turn (after {@code warmup} rounds); one latency per workload. */
    private static Latency[] closedLoop(String[] workloads, int warmup, int count, long callerSpinNanos, Alternating operation) {
        int n = workloads.length;
        long[][] samples = new long[n][count];
        long[] busy = new long[n];
        Probe probe = new Probe(Thread.currentThread());
        for (int i = -warmup; i < count; i++) {
            for (int w = 0; w < n; w++) {
                probe.reset();
                long t0 = System.nanoTime();
                operation.start(i + warmup, w).subscribe(probe);
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
                    throw new IllegalStateException(workloads[w] + " " + i + " failed: " + probe.error, probe.error);
                }
                if (i >= 0) {
                    samples[w][i] = probe.end - t0;
                    busy[w] += System.nanoTime() - t0;
                }
            }
        }
        Latency[] result = new Latency[n];
        for (int w = 0; w < n; w++) {
            Arrays.sort(samples[w]);
            result[w] = new Latency(workloads[w], count, busy[w] / 1e9, percentile(samples[w], 0.50), percentile(samples[w], 0.99),
                percentile(samples[w], 0.999));
        }
        return result;
    }

    private static double percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(p * sorted.length))] / 1000.0;
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

    /** {@code DIR [fsync|batched:MS] [COMMANDS] [LOAD_EVENTS]}: prints the figures, one line each. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/reel-command-bench");
        Durability durability = Durability.parse(args.length > 1 ? args[1] : "fsync");
        int commands = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
        int loadEvents = args.length > 3 ? Integer.parseInt(args[3]) : 100_000;
        if (Files.exists(dir)) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        try (EventStore store = EventStore.open(dir, StoreSettings.builder().durability(durability).segmentSize(64L << 20).build())) {
            int warmup = Math.max(2000, commands / 5);
            System.out.printf(Locale.ROOT, "durability %s%n", durability);
            for (boolean spinning : new boolean[] {false, true}) {
                Latency[] pair = commandsBesideAppends(store, warmup, commands, 16, spinning);
                System.out.println(spinning ? "spinning caller" : "parking caller");
                print(pair[0]);
                print(pair[1]);
                System.out.printf(Locale.ROOT, "command - append at p50: %.1f us%n", pair[1].p50Us() - pair[0].p50Us());
            }
            if (loadEvents > 0) {
                LoadTimes load = load(store, loadEvents);
                System.out.printf(Locale.ROOT, "load of a %d-event aggregate: %.1f ms from events, %.2f ms from a snapshot%n",
                    load.events(), load.withoutSnapshotMs(), load.withSnapshotMs());
            }
        }
    }

    private static void print(Latency l) {
        System.out.printf(Locale.ROOT, "%-8s %7d ops in %.2f s (%.0f/s): p50 %.1f us, p99 %.1f us, p99.9 %.1f us%n", l.workload(),
            l.operations(), l.seconds(), l.perSecond(), l.p50Us(), l.p99Us(), l.p999Us());
    }
}
