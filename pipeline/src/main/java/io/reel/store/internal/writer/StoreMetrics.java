package io.reel.store.internal.writer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.reel.store.ErrorCode;
import io.reel.store.StoreSettings;
import io.reel.store.internal.log.Bytes;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The store's meters, all prefixed {@code reel.}. The registry comes from {@link StoreSettings#meterRegistry()};
 * the default is an empty composite, which records nothing and costs next to nothing.
 */
public final class StoreMetrics implements AutoCloseable {
    public final MeterRegistry registry;
    private final List<Meter> registered = new ArrayList<>();
    final Counter appendEvents;
    final Counter appendBytes;
    final Counter appends;
    final Timer appendLatency;
    final Timer fsyncLatency;
    final DistributionSummary batchEvents;
    public final Counter recoveryTruncatedBytes;
    private final Map<ErrorCode, Counter> rejected = new EnumMap<>(ErrorCode.class);

    public StoreMetrics(MeterRegistry registry) {
        this.registry = registry;
        appendEvents = track(Counter.builder("reel.append.events").description("Events appended").register(registry));
        appendBytes = track(Counter.builder("reel.append.bytes").baseUnit("bytes").description("Encoded bytes appended").register(registry));
        appends = track(Counter.builder("reel.appends").description("Append requests acknowledged").register(registry));
        // buckets only (Prometheus takes percentiles with histogram_quantile): in-process percentiles cost an HdrHistogram
        // recording per acknowledgement on the acknowledging thread, which every append waits behind
        appendLatency = track(Timer.builder("reel.append.latency").description("From submit to acknowledgement")
            .publishPercentileHistogram().register(registry));
        fsyncLatency = track(Timer.builder("reel.fsync.latency").description("Duration of one force of the active segment")
            .publishPercentiles(0.5, 0.99).publishPercentileHistogram().register(registry));
        batchEvents = track(DistributionSummary.builder("reel.batch.size").description("Events per group commit")
            .publishPercentiles(0.5, 0.99).register(registry));
        recoveryTruncatedBytes = track(Counter.builder("reel.recovery.truncated.bytes").baseUnit("bytes")
            .description("Bytes of unacknowledged torn tail cut on open").register(registry));
        for (ErrorCode code : ErrorCode.values()) {
            rejected.put(code, Counter.builder("reel.rejected").tag("code", code.name())
                .description("Requests rejected, by error code").register(registry));
        }
    }

    /** Registers nothing itself: remembers a meter of this store so that {@link #close()} removes it. */
    public <T extends Meter> T track(T meter) {
        synchronized (registered) {
            registered.add(meter);
        }
        return meter;
    }

    /** Removes this store's meters, so a store opened later in the same registry starts clean. */
    @Override
    public void close() {
        synchronized (registered) {
            for (Meter meter : registered) {
                registry.remove(meter);
            }
            registered.clear();
        }
    }

    public void rejected(ErrorCode code) {
        rejected.get(code).increment();
    }

    void batch(int events, long bytes, long forceNanos) {
        appendEvents.increment(events);
        appendBytes.increment(bytes);
        batchEvents.record(events);
        if (forceNanos >= 0) {
            fsyncLatency.record(forceNanos, TimeUnit.NANOSECONDS);
        }
    }
}
