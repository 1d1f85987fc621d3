package io.reel.ops.bench;

import io.reel.store.Direction;
import io.reel.store.EventStore;
import io.reel.store.StoreSettings;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;

/**
 * Opens a store in a JVM of its own, so that what the open holds on the heap can be told apart from
 * everything else: prints {@code open_seconds heap_bytes stream_read_p50_us stream_read_p99_us} on one line. The open
 * is timed cold, as a restart is; the stream reads after a warm-up.
 * Run by the restart workload of {@link Bench}.
 */
public final class RestartProbe {
    private RestartProbe() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        long before = settledHeap();
        long t0 = System.nanoTime();
        try (EventStore store = EventStore.open(dir, StoreSettings.defaults())) {
            double openSeconds = (System.nanoTime() - t0) / 1e9;
            long after = settledHeap();
            for (int i = 0; i < 30; i++) {
                store.readStream("target-" + (i % 5), 0, 0, Direction.FORWARDS).count().block();
            }
            Latencies lat = new Latencies();
            for (int i = 0; i < 50; i++) {
                long s = System.nanoTime();
                long n = store.readStream("target-" + (i % 5), 0, 0, Direction.FORWARDS).count().block();
                lat.record(System.nanoTime() - s);
                if (n != 1000) {
                    throw new IllegalStateException("target stream has " + n + " events, expected 1000");
                }
            }
            System.out.println(openSeconds + " " + (after - before) + " " + lat.p50() + " " + lat.p99());
        }
    }

    private static long settledHeap() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
