package io.reel.transport.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.reel.store.ErrorCode;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's meters, in the store's registry: {@code reel.connections} (open RSocket connections),
 * {@code reel.connections.accepted}, {@code reel.transport.streams} (open reads, subscriptions and group consumers) and
 * {@code reel.transport.append.batch} (appends per {@code append.batch} request: how well clients coalesce),
 * {@code reel.transport.rejected{code}} (requests and SETUPs the transport itself refused: bad input,
 * unknown route, missing token, limits). Rejections by the store are counted by the store as {@code reel.rejected}.
 */
public final class TransportMetrics implements AutoCloseable {
    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final Map<ErrorCode, Counter> rejected = new EnumMap<>(ErrorCode.class);
    public final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger streams = new AtomicInteger();
    public final Counter accepted;
    final DistributionSummary appendBatch;

    public TransportMetrics(MeterRegistry registry) {
        this.registry = registry;
        meters.add(Gauge.builder("reel.connections", connections, AtomicInteger::get)
            .description("Open RSocket connections").register(registry));
        meters.add(Gauge.builder("reel.transport.streams", streams, AtomicInteger::get)
            .description("Open remote reads, subscriptions and group consumers").register(registry));
        accepted = Counter.builder("reel.connections.accepted").description("RSocket connections accepted").register(registry);
        meters.add(accepted);
        appendBatch = DistributionSummary.builder("reel.transport.append.batch").baseUnit("appends")
            .description("Appends per append.batch request").register(registry);
        meters.add(appendBatch);
        for (ErrorCode code : ErrorCode.values()) {
            Counter c = Counter.builder("reel.transport.rejected").tag("code", code.name())
                .description("Requests and SETUPs the transport rejected, by error code").register(registry);
            rejected.put(code, c);
            meters.add(c);
        }
    }

    public void rejected(ErrorCode code) {
        rejected.get(code).increment();
    }

    @Override
    public void close() {
        for (Meter m : meters) {
            registry.remove(m);
        }
    }
}
