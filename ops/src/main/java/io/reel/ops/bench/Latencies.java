package io.reel.ops.bench;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Latency samples of one workload, in nanoseconds, kept in an HdrHistogram (three significant digits) and read
 * back as percentiles in microseconds. Safe to record from several threads at once.
 */
final class Latencies {
    private final Histogram histogram = new ConcurrentHistogram(3);

    /** Records one sample of {@code nanos} (negative values count as 0). */
    void record(long nanos) {
        histogram.recordValue(Math.max(0, nanos));
    }

    /** Adds every sample of {@code samples}. */
    void addAll(Histogram samples) {
        histogram.add(samples);
    }

    long count() {
        return histogram.getTotalCount();
    }

    /** The {@code percentile} (0–100) in microseconds, or null when nothing was recorded. */
    Double micros(double percentile) {
        return count() == 0 ? null : histogram.getValueAtPercentile(percentile) / 1e3;
    }

    Double p50() {
        return micros(50);
    }

    Double p99() {
        return micros(99);
    }

    Double p999() {
        return micros(99.9);
    }
}
