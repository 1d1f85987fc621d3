package io.reel.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import io.reel.projection.ProjectionStatus;
import io.reel.store.EventStore;
import io.reel.store.StoreInfo;
import io.reel.store.SubscriptionStatus;
import io.reel.store.groups.GroupStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Takes a {@link Sample} of the server once a second on its own thread, and keeps the last
 * {@value #HISTORY} of them: {@code /api/stats} serves the latest, {@code /api/history} all of them (the
 * dashboard draws its first screen from it), and nothing that answers HTTP touches a file.
 *
 * <p>The append rate is the difference of the store's {@code reel.append.events} (and {@code .bytes})
 * counters between two samples, per second. The sampler also registers the server-level gauges
 * {@code reel.disk.free.bytes}, {@code reel.writer.stopped} and {@code reel.snapshots.stored}.
 */
final class StatsSampler implements AutoCloseable {
    static final int HISTORY = 600;
    private static final int SNAPSHOT_COUNT_EVERY = 10;
    private static final Logger LOG = LoggerFactory.getLogger(StatsSampler.class);

    /** Where a lag comes from. */
    enum Kind { SUBSCRIPTION, GROUP, PROJECTION }

    /**
     * The lag of one consumer: a subscription, a subscription group or a projection.
     *
     * @param status     what it is doing: {@code live}, {@code behind} (caught up once, behind now) or {@code catching-up}
     *                   for a subscription, its consumers for a group, the phase of a projection
     * @param detail     its filter, or why it failed; empty when nothing to say
     */
    record Lag(Kind kind, String name, String status, long position, long lagEvents, double lagSeconds, String detail) {
        static Lag of(SubscriptionStatus s) {
            String status = s.lagEvents() == 0 ? "live" : s.caughtUp() ? "behind" : "catching-up";
            return new Lag(Kind.SUBSCRIPTION, s.name(), status, s.position(), s.lagEvents(), s.lagSeconds(), s.filter());
        }

        static Lag of(ProjectionStatus p) {
            return new Lag(Kind.PROJECTION, p.name(), p.phase().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), p.position(),
                p.lagEvents(), p.lagSeconds(), p.error());
        }

        static Lag of(GroupStatus g) {
            int consumers = g.consumers().size();
            return new Lag(Kind.GROUP, g.name(), consumers + (consumers == 1 ? " consumer" : " consumers"), g.checkpoint(), g.lagEvents(),
                g.lagSeconds(), "in flight " + g.inFlight() + ", parked " + g.parked() + ", filter " + g.filter());
        }
    }

    /** The server at one moment. {@code connections} is -1 when no RSocket server runs. */
    record Sample(long timeMillis, long head, long headTimestampMicros, double appendRate, double appendBytesRate, StoreInfo info,
                  long diskFreeBytes, String writerState, int connections, List<Lag> lags) {
        boolean writable() {
            return "ok".equals(writerState);
        }

        /** The JSON of {@code /api/stats} (and each element of {@code /api/history}), as an ordered tree for Gson. */
        Map<String, Object> toJsonTree() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("time_millis", timeMillis);
            json.put("version", info.version());
            json.put("durability", info.durability());
            json.put("writer_state", writerState);
            json.put("head", head);
            json.put("head_timestamp_micros", headTimestampMicros);
            json.put("append_rate", round(appendRate));
            json.put("append_bytes_rate", round(appendBytesRate));
            json.put("segments", info.segments());
            json.put("bytes", info.bytes());
            json.put("disk_free_bytes", diskFreeBytes);
            json.put("connections", connections);
            for (Kind kind : Kind.values()) {
                List<Map<String, Object>> ofKind = new ArrayList<>();
                for (Lag lag : lags) {
                    if (lag.kind() == kind) {
                        Map<String, Object> l = new LinkedHashMap<>();
                        l.put("name", lag.name());
                        l.put("status", lag.status());
                        l.put("position", lag.position());
                        l.put("lag_events", lag.lagEvents());
                        l.put("lag_seconds", round(lag.lagSeconds()));
                        l.put("detail", lag.detail());
                        ofKind.add(l);
                    }
                }
                json.put(kind.name().toLowerCase(java.util.Locale.ROOT) + "s", ofKind);
            }
            return json;
        }

        private static double round(double v) {
            return Math.round(v * 1000) / 1000.0;
        }
    }

    private final EventStore store;
    private final MeterRegistry registry;
    private final Supplier<List<Lag>> projections;
    private final Supplier<List<Lag>> groups;
    private final IntSupplier connections;
    private final Scheduler scheduler = Schedulers.newSingle("reel-stats", true);
    private final ArrayDeque<Sample> history = new ArrayDeque<>(HISTORY);
    private final List<Meter> meters = new ArrayList<>();
    private volatile Sample latest;
    private volatile long snapshotsStored;
    private Disposable ticks;
    private double lastEvents;
    private double lastBytes;
    private long lastNanos;
    private int tick;

    /**
     * @param projections lags of the projections the server runs (an empty list when none)
     * @param groups      lags of the subscription groups (an empty list when none)
     * @param connections open RSocket connections, or -1 when no RSocket server runs
     */
    StatsSampler(EventStore store, MeterRegistry registry, Supplier<List<Lag>> projections, Supplier<List<Lag>> groups,
                 IntSupplier connections) {
        this.store = store;
        this.registry = registry;
        this.projections = projections;
        this.groups = groups;
        this.connections = connections;
    }

    /** Takes the first sample on the calling thread, then one a second. */
    void start() {
        sample();
        meters.add(Gauge.builder("reel.disk.free.bytes", this, s -> s.latest.diskFreeBytes()).baseUnit("bytes")
            .description("Usable space on the file system of the data directory").register(registry));
        meters.add(Gauge.builder("reel.writer.stopped", store, s -> "ok".equals(s.writerState()) ? 0 : 1)
            .description("1 while writes are stopped by STORAGE_FULL or IO_ERROR (reads go on)").register(registry));
        meters.add(Gauge.builder("reel.snapshots.stored", this, s -> s.snapshotsStored)
            .description("Aggregate snapshot files in the data directory").register(registry));
        ticks = scheduler.schedulePeriodically(this::sampleSafely, 1, 1, TimeUnit.SECONDS);
    }

    Sample latest() {
        return latest;
    }

    List<Sample> history() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    private void sampleSafely() {
        try {
            sample();
        } catch (RuntimeException e) {
            LOG.warn("taking a stats sample failed: {}", e.toString());
        }
    }

    private void sample() {
        long now = System.nanoTime();
        double events = count("reel.append.events");
        double bytes = count("reel.append.bytes");
        double seconds = (now - lastNanos) / 1e9;
        boolean first = lastNanos == 0;
        double rate = first ? 0 : Math.max(0, events - lastEvents) / seconds;
        double bytesRate = first ? 0 : Math.max(0, bytes - lastBytes) / seconds;
        lastEvents = events;
        lastBytes = bytes;
        lastNanos = now;
        if (tick++ % SNAPSHOT_COUNT_EVERY == 0) {
            snapshotsStored = countFiles(store.directory().resolve("snapshots"));
        }
        List<Lag> lags = new ArrayList<>();
        for (SubscriptionStatus s : store.subscriptions()) {
            lags.add(Lag.of(s));
        }
        lags.addAll(groups.get());
        lags.addAll(projections.get());
        Sample sample = new Sample(System.currentTimeMillis(), store.headPosition(), store.headTimestampMicros(), rate, bytesRate,
            store.info(), diskFree(store.directory()), store.writerState(), connections.getAsInt(), List.copyOf(lags));
        latest = sample;
        synchronized (history) {
            if (history.size() == HISTORY) {
                history.removeFirst();
            }
            history.addLast(sample);
        }
    }

    private double count(String name) {
        double total = 0;
        for (Meter m : Search.in(registry).name(name).meters()) {
            for (var measurement : m.measure()) {
                total += measurement.getValue();
            }
        }
        return total;
    }

    static long diskFree(Path dir) {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    private static long countFiles(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).count();
        } catch (IOException | java.io.UncheckedIOException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        if (ticks != null) {
            ticks.dispose();
        }
        scheduler.dispose();
        for (Meter m : meters) {
            registry.remove(m);
        }
    }
}
