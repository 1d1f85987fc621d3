package io.reel.ops;

import io.reel.store.Direction;
import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/** The workloads {@code reel bench} has so far. */
final class BenchWorkloads {
    private BenchWorkloads() {
    }

    /** A workload that is not written yet: fails with a sentence that says so. */
    static BenchWorkload notYet(String name) {
        return options -> {
            throw new ReelException(ErrorCode.NOT_FOUND, "the bench workload '" + name + "' is not yet implemented; "
                + "'append' and 'read' are");
        };
    }

    /**
     * Embedded appends: {@code producers} threads each append batches of {@code batch} events of
     * {@code payload} bytes to their own stream, each waiting for its acknowledgement; one latency per append.
     */
    static final class Append implements BenchWorkload {
        @Override
        public Result run(Options o) throws Exception {
            if (o.remote()) {
                throw new ReelException(ErrorCode.NOT_FOUND, "the remote append workload is not yet implemented; run it embedded");
            }
            long appends = Math.max(1, o.events() / o.batch());
            long[] latencies = new long[(int) appends];
            byte[] data = new byte[o.payload()];
            try (EventStore store = EventStore.open(o.dir(), StoreSettings.builder().durability(o.durability()).build())) {
                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<Thread> threads = new ArrayList<>();
                long started = System.nanoTime();
                for (int p = 0; p < o.producers(); p++) {
                    int producer = p;
                    Thread t = new Thread(() -> {
                        try {
                            String stream = "bench-" + producer;
                            for (long i = producer; i < appends; i += o.producers()) {
                                List<EventData> events = new ArrayList<>(o.batch());
                                for (int e = 0; e < o.batch(); e++) {
                                    events.add(EventData.of("BenchEvent", data));
                                }
                                long t0 = System.nanoTime();
                                store.append(stream, ExpectedRevision.ANY, events).block(Duration.ofMinutes(1));
                                latencies[(int) i] = System.nanoTime() - t0;
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }, "bench-producer-" + p);
                    threads.add(t);
                    t.start();
                }
                for (Thread t : threads) {
                    t.join();
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                if (failure.get() != null) {
                    throw new ReelException(ErrorCode.INTERNAL, "an append failed during the bench: " + failure.get(), failure.get());
                }
                long events = appends * o.batch();
                return new Result("append", events, seconds, events * o.payload(), latencies, 0);
            }
        }
    }

    /** Embedded catch-up read of {@code $all}: appends {@code events} (batched durability), then reads them all back. */
    static final class Read implements BenchWorkload {
        @Override
        public Result run(Options o) {
            if (o.remote()) {
                throw new ReelException(ErrorCode.NOT_FOUND, "the remote read workload is not yet implemented; run it embedded");
            }
            byte[] data = new byte[o.payload()];
            StoreSettings settings = StoreSettings.builder().durability(Durability.batched(Duration.ofMillis(50))).build();
            try (EventStore store = EventStore.open(o.dir(), settings)) {
                long have = store.headPosition();
                while (have < o.events()) {
                    int n = (int) Math.min(o.batch(), o.events() - have);
                    List<EventData> events = new ArrayList<>(n);
                    for (int e = 0; e < n; e++) {
                        events.add(EventData.of("BenchEvent", data));
                    }
                    store.append("bench-read", ExpectedRevision.ANY, events).block(Duration.ofMinutes(1));
                    have += n;
                }
                long started = System.nanoTime();
                Long read = store.readAll(0, o.events(), Direction.FORWARDS, EventFilter.none()).count().block(Duration.ofHours(1));
                double seconds = (System.nanoTime() - started) / 1e9;
                long events = read == null ? 0 : read;
                return new Result("read", events, seconds, events * o.payload(), null, 0);
            }
        }
    }
}
