package io.reel.ops.bench;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import io.reel.transport.ReelServer;
import io.reel.transport.ServerSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * {@code reel bench append --remote}: durable appends through {@link ReelClient} to a server on loopback, beside
 * the embedded figure of the same configuration measured in the same run.
 *
 * <p>{@code producers} closed-loop producers share one client (one connection, as the threads of one
 * application would): each appends {@code batch} events, waits for the acknowledgement, appends again. The
 * client coalesces what they send into {@code append.batch} requests, or with {@code --no-coalesce} sends each
 * append on the plain {@code append} route, as a foreign client does; that figure is also set beside the rate at
 * which the same number of callers get {@code info} answered over the same connection, the round trip without
 * the disk. Latency is per append, call to acknowledgement, recorded in an HdrHistogram.
 */
final class RemoteAppendBench {
    private final Bench.Options options;
    private final byte[] payload;

    RemoteAppendBench(Bench.Options options, byte[] payload) {
        this.options = options;
        this.payload = payload;
    }

    /** Runs the remote measurement; {@code embedded} is the embedded figure of the same configuration from the same run. */
    BenchResult run(Path dir, BenchResult embedded) throws IOException {
        Files.createDirectories(dir);
        int batch = options.batch();
        int producers = options.producers();
        long appends = Math.max(producers, options.events() / batch);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        StoreSettings settings = StoreSettings.builder().durability(options.durability()).meterRegistry(meters).build();
        double seconds;
        long events;
        Histogram latency;
        double warmupSeconds;
        double infoRate;
        double appendsPerBatch;
        double eventsPerCommit;
        double forceMeanMicros;
        try (EventStore store = EventStore.open(dir, settings);
             ReelServer server = ReelServer.start(store, ServerSettings.builder().tcpPort(0).webSocketPort(0).build());
             ReelClient client = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort())
                 .coalesceAppends(options.coalesce()).build()).block()) {
            String[][] warmupStreams = ClosedLoops.streamNames("warmup-", producers, 1);
            warmupSeconds = ClosedLoops.warmUp(producers, appends * batch, 2 * Math.max(1, appends / producers),
                (producer, i) -> client.append(warmupStreams[producer][0], ExpectedRevision.ANY, events(options.batch())));
            DistributionSummary batches = meters.find("reel.transport.append.batch").summary();
            long batchesBefore = batches == null ? 0 : batches.count();
            double appendsBefore = batches == null ? 0 : batches.totalAmount();
            // what the writer saw while measured: events per group commit and the mean force
            DistributionSummary commits = meters.get("reel.batch.size").summary();
            io.micrometer.core.instrument.Timer forces = meters.get("reel.fsync.latency").timer();
            long commitsBefore = commits.count();
            double committedBefore = commits.totalAmount();
            long forcesBefore = forces.count();
            double forcedBefore = forces.totalTime(java.util.concurrent.TimeUnit.MICROSECONDS);
            long t0 = System.nanoTime();
            ClosedLoops.Outcome measured = closedLoop(client, producers, appends / producers, "bench-");
            latency = measured.latencies();
            long done = measured.done();
            seconds = (System.nanoTime() - t0) / 1e9;
            events = done * batch;
            long batchCount = batches == null ? 0 : batches.count() - batchesBefore;
            appendsPerBatch = batchCount == 0 ? 0 : (batches.totalAmount() - appendsBefore) / batchCount;
            eventsPerCommit = (commits.totalAmount() - committedBefore) / Math.max(1, commits.count() - commitsBefore);
            forceMeanMicros = (forces.totalTime(java.util.concurrent.TimeUnit.MICROSECONDS) - forcedBefore) / Math.max(1, forces.count() - forcesBefore);
            infoRate = options.coalesce() ? 0 : infoRate(client, producers, Math.min(200_000, Math.max(2_000, appends / 2)));
        }
        double rate = events / seconds;
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("batch", batch);
        details.put("producers", producers);
        details.put("payload_bytes", options.payload());
        details.put("durability", options.durability().toString());
        details.put("route", options.coalesce() ? "append.batch (ReelClient coalescing)" : "append (one request per append)");
        details.put("embedded_events_per_sec", Math.round(embedded.eventsPerSec()));
        details.put("embedded_p50_us", embedded.p50Us());
        details.put("embedded_p99_us", embedded.p99Us());
        details.put("embedded_events_per_commit", embedded.details().get("events_per_commit"));
        details.put("embedded_force_mean_us", embedded.details().get("force_mean_us"));
        details.put("ratio_to_embedded", rate / embedded.eventsPerSec());
        if (options.coalesce()) {
            details.put("appends_per_request", appendsPerBatch);
        } else {
            details.put("info_per_sec", Math.round(infoRate));
            details.put("ratio_to_info", (events / (double) batch / seconds) / infoRate);
        }
        details.put("events_per_commit", Math.round(eventsPerCommit * 10) / 10.0);
        details.put("force_mean_us", Math.round(forceMeanMicros));
        details.put("warmup_seconds", Math.round(warmupSeconds * 10) / 10.0);
        details.put("floor_events_per_sec", embedded.floorEventsPerSec());
        return new BenchResult("append-remote", events, seconds, rate, rate * options.payload() / 1e6, micros(latency, 50),
            micros(latency, 99), micros(latency, 99.9), embedded.floorEventsPerSec(),
            embedded.floorEventsPerSec() == null ? null : rate / embedded.floorEventsPerSec(), details);
    }

    private static Double micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? null : h.getValueAtPercentile(percentile) / 1e3;
    }

    /**
     * {@code producers} independent closed loops of {@code perProducer} appends each; the appends acknowledged
     * and their latencies.
     */
    private ClosedLoops.Outcome closedLoop(ReelClient client, int producers, long perProducer, String prefix) {
        String[][] streams = ClosedLoops.streamNames(prefix, producers, options.streams());
        return ClosedLoops.run(producers, perProducer, Long.MAX_VALUE, ClosedLoops.MAX_LATENCY_NANOS,
            (producer, i) -> client.append(streams[producer][(int) (i % streams[producer].length)], ExpectedRevision.ANY, events(options.batch())));
    }

    /** The rate at which {@code callers} closed loops get {@code info} answered over the client's connection. */
    private double infoRate(ReelClient client, int callers, long total) {
        long t0 = System.nanoTime();
        long n = ClosedLoops.run(callers, Math.max(1, total / callers), Long.MAX_VALUE, ClosedLoops.MAX_LATENCY_NANOS,
            (caller, i) -> client.info()).done();
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    private List<EventData> events(int n) {
        List<EventData> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(EventData.of("BenchEvent", payload));
        }
        return list;
    }
}
