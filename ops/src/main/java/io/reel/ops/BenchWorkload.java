package io.reel.ops;

import io.reel.store.Durability;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * One {@code reel bench} workload. Implementations are registered in {@link BenchCommand#WORKLOADS}; they
 * measure and return figures, they never decide whether the figures are good (that is the floor's job).
 */
interface BenchWorkload {
    /**
     * The parsed flags of {@code reel bench}.
     *
     * @param dir       the data directory to use (empty unless the user gave one)
     * @param batch     events per append
     * @param payload   bytes of data per event
     * @param maxBatch  records per payload for remote reads and subscriptions
     * @param remote    over RSocket on loopback instead of embedded
     */
    record Options(Path dir, long events, int batch, int payload, int producers, Durability durability, int maxBatch, boolean remote) {
    }

    Result run(Options options) throws Exception;

    /**
     * What a workload measured.
     *
     * @param latenciesNanos one latency per operation (an append, an event received), or null when the workload has none
     * @param floorEventsPerSec the raw floor measured in the same run, or 0 when no floor applies
     */
    record Result(String workload, long events, double seconds, long payloadBytes, long[] latenciesNanos, double floorEventsPerSec) {
        double eventsPerSec() {
            return events / seconds;
        }

        double mbPerSec() {
            return payloadBytes / seconds / 1e6;
        }

        /** The latency at {@code quantile} in microseconds (nearest rank), or NaN without latencies. */
        double percentileMicros(double quantile) {
            if (latenciesNanos == null || latenciesNanos.length == 0) {
                return Double.NaN;
            }
            long[] sorted = latenciesNanos.clone();
            Arrays.sort(sorted);
            int rank = (int) Math.ceil(quantile * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, rank))] / 1000.0;
        }

        String toJson() {
            Json.Writer json = new Json.Writer().beginObject()
                .field("workload", workload)
                .field("events", events)
                .field("seconds", round(seconds, 3))
                .field("events_per_sec", Math.round(eventsPerSec()))
                .field("mb_per_sec", round(mbPerSec(), 2));
            if (latenciesNanos != null) {
                json.field("p50_us", round(percentileMicros(0.50), 1))
                    .field("p99_us", round(percentileMicros(0.99), 1))
                    .field("p999_us", round(percentileMicros(0.999), 1));
            }
            if (floorEventsPerSec > 0) {
                json.field("floor_events_per_sec", Math.round(floorEventsPerSec))
                    .field("ratio_to_floor", round(eventsPerSec() / floorEventsPerSec, 3));
            }
            return json.endObject().toString();
        }

        String toText() {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%s: %,d events in %.3f s: %,.0f events/s, %.2f MB/s",
                workload, events, seconds, eventsPerSec(), mbPerSec()));
            if (latenciesNanos != null) {
                b.append(String.format(Locale.ROOT, "; latency p50 %.1f us, p99 %.1f us, p99.9 %.1f us",
                    percentileMicros(0.50), percentileMicros(0.99), percentileMicros(0.999)));
            }
            if (floorEventsPerSec > 0) {
                b.append(String.format(Locale.ROOT, "; floor %,.0f events/s, ratio %.3f", floorEventsPerSec, eventsPerSec() / floorEventsPerSec));
            }
            return b.toString();
        }

        private static double round(double v, int digits) {
            double scale = Math.pow(10, digits);
            return Math.round(v * scale) / scale;
        }
    }
}
