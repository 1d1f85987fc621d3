package io.reel.store.internal.writer;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.reel.store.SubscriptionStatus;
import io.reel.store.groups.GroupStatus;
import io.reel.store.internal.log.Log;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * The store's gauges: the head, the segments, the log's bytes, the writer's queue, the last recovery, and one row per
 * subscription, group and group consumer for lag and in-flight counts, refreshed every second on {@code refresher}.
 * Registered in {@link StoreMetrics}'s registry (and removed with it); {@link #close()} stops the refresh and empties
 * the rows.
 */
public final class StoreGauges implements AutoCloseable {
    private final Duration openTime;
    private final long replayedEvents;
    private final LongSupplier logBytes;
    private final Supplier<List<SubscriptionStatus>> subscriptions;
    private final Supplier<List<GroupStatus>> groups;
    private final MultiGauge lagEvents;
    private final MultiGauge lagSeconds;
    private final MultiGauge groupLagEvents;
    private final MultiGauge groupLagSeconds;
    private final MultiGauge groupInFlight;
    private final MultiGauge groupParked;
    private final MultiGauge consumerInFlight;
    private final Disposable refresh;

    /**
     * Gauges of a store whose last open took {@code openTime} and replayed {@code replayedEvents} into the index, whose
     * log holds {@code logBytes}, with these live subscriptions and groups; rows refresh every second on {@code refresher}.
     */
    public StoreGauges(StoreMetrics metrics, Log log, WriterStage writer, Duration openTime, long replayedEvents, LongSupplier logBytes,
                       Supplier<List<SubscriptionStatus>> subscriptions, Supplier<List<GroupStatus>> groups, Scheduler refresher) {
        this.openTime = openTime;
        this.replayedEvents = replayedEvents;
        this.logBytes = logBytes;
        this.subscriptions = subscriptions;
        this.groups = groups;
        MeterRegistry r = metrics.registry;
        metrics.track(Gauge.builder("reel.head.position", log, l -> l.head().position())
            .description("One past the last durable position").register(r));
        metrics.track(Gauge.builder("reel.segments", log, l -> l.segments().length).description("Segment files in the log").register(r));
        metrics.track(Gauge.builder("reel.log.bytes", this, g -> g.logBytes.getAsLong()).baseUnit("bytes")
            .description("Bytes of log data").register(r));
        metrics.track(Gauge.builder("reel.writer.queue", writer, WriterStage::queued).description("Appends waiting for the writer")
            .register(r));
        metrics.track(Gauge.builder("reel.recovery.seconds", this, g -> g.openTime.toNanos() / 1e9)
            .description("Time the last open took, recovery included").register(r));
        metrics.track(Gauge.builder("reel.recovery.replayed.events", this, g -> g.replayedEvents)
            .description("Records the indexer replayed on the last open").register(r));
        lagEvents = MultiGauge.builder("reel.subscription.lag.events").description("Records between a subscription and the head")
            .register(r);
        lagSeconds = MultiGauge.builder("reel.subscription.lag.seconds").baseUnit("seconds")
            .description("Commit-time distance between a subscription and the head").register(r);
        groupLagEvents = MultiGauge.builder("reel.group.lag.events").description("Records between a group's checkpoint and the head")
            .register(r);
        groupLagSeconds = MultiGauge.builder("reel.group.lag.seconds").baseUnit("seconds")
            .description("Commit-time distance between a group's oldest outstanding event and the head").register(r);
        groupInFlight = MultiGauge.builder("reel.group.in.flight").description("Deliveries of a group awaiting acknowledgement")
            .register(r);
        groupParked = MultiGauge.builder("reel.group.parked").description("Parked events of a group").register(r);
        consumerInFlight = MultiGauge.builder("reel.group.consumer.in.flight")
            .description("Deliveries a group's consumer holds unacknowledged").register(r);
        this.refresh = refresher.schedulePeriodically(this::refreshLagGauges, 1, 1, TimeUnit.SECONDS);
    }

    private boolean closed;

    /**
     * Synchronized with {@link #close()}: a refresh still running when the store closes would otherwise register rows
     * after close emptied them, and those rows would outlive the store in the registry.
     */
    private synchronized void refreshLagGauges() {
        if (closed) {
            return;
        }
        List<SubscriptionStatus> all = subscriptions.get();
        lagEvents.register(all.stream().map(s -> MultiGauge.Row.of(Tags.of("name", s.name()), s.lagEvents())).toList(), true);
        lagSeconds.register(all.stream().map(s -> MultiGauge.Row.of(Tags.of("name", s.name()), s.lagSeconds())).toList(), true);
        List<GroupStatus> gs = groups.get();
        groupLagEvents.register(gs.stream().map(g -> MultiGauge.Row.of(Tags.of("group", g.name()), g.lagEvents())).toList(), true);
        groupLagSeconds.register(gs.stream().map(g -> MultiGauge.Row.of(Tags.of("group", g.name()), g.lagSeconds())).toList(), true);
        groupInFlight.register(gs.stream().map(g -> MultiGauge.Row.of(Tags.of("group", g.name()), g.inFlight())).toList(), true);
        groupParked.register(gs.stream().map(g -> MultiGauge.Row.of(Tags.of("group", g.name()), g.parked())).toList(), true);
        consumerInFlight.register(gs.stream().flatMap(g -> g.consumers().stream()
            .map(c -> MultiGauge.Row.of(Tags.of("group", g.name(), "consumer", c.id()), c.inFlight()))).toList(), true);
    }

    /** Stops the refresh and empties the rows (the gauges themselves go with {@link StoreMetrics#close()}). */
    @Override
    public synchronized void close() {
        closed = true;
        refresh.dispose();
        for (MultiGauge g : List.of(lagEvents, lagSeconds, groupLagEvents, groupLagSeconds, groupInFlight, groupParked, consumerInFlight)) {
            g.register(List.of(), true);
        }
    }
}
