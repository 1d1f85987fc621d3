package io.reel.ops;

import io.reel.ops.bench.Bench;
import io.reel.ops.bench.BenchResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import reactor.core.publisher.Flux;

/**
 * {@code reel bench cluster}: three cluster nodes as child processes on loopback, {@code --producers} closed-loop
 * producers appending through one {@link ReelClient} that knows all three, and beside it the figure of the same
 * load against one standalone server (also a child process) in the same run: {@code standalone_events_per_sec}.
 * Under the cluster's load, a live subscriber connected to a follower gives {@code follower_delivery_p99_us}: from
 * an append's acknowledgement reaching its producer to its event reaching that subscriber.
 */
final class ClusterBench {
    private static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final Duration READY = Duration.ofMinutes(3);

    private ClusterBench() {
    }

    static BenchResult run(Bench.Options options, PrintStream progress) {
        try {
            Path dir = options.dataDir();
            progress.println("starting three cluster nodes...");
            Figures cluster;
            List<Process> nodes = new ArrayList<>();
            try {
                StringJoiner peers = new StringJoiner(",");
                List<String> ids = List.of("a", "b", "c");
                for (String id : ids) {
                    peers.add(id + "=127.0.0.1:" + freePort());
                }
                List<Path> outs = new ArrayList<>();
                for (String id : ids) {
                    Path out = dir.resolve("node-" + id + ".out");
                    outs.add(out);
                    nodes.add(start(dir.resolve("node-" + id), out, "--node-id", id, "--peers", peers.toString()));
                }
                StringJoiner servers = new StringJoiner(",");
                for (int i = 0; i < ids.size(); i++) {
                    servers.add(awaitReady(nodes.get(i), outs.get(i)));
                }
                cluster = load(servers.toString(), options, progress, "cluster", true);
            } finally {
                nodes.forEach(ClusterBench::stop);
            }
            progress.println("starting a standalone server...");
            Figures standalone;
            Process single = start(dir.resolve("standalone"), dir.resolve("standalone.out"));
            try {
                standalone = load(awaitReady(single, dir.resolve("standalone.out")), options, progress, "standalone", false);
            } finally {
                stop(single);
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("nodes", 3);
            details.put("batch", options.batch());
            details.put("producers", options.producers());
            details.put("payload_bytes", options.payload());
            details.put("standalone_events_per_sec", Math.round(standalone.rate()));
            details.put("standalone_p50_us", standalone.p50());
            details.put("standalone_p99_us", standalone.p99());
            details.put("ratio_to_standalone", cluster.rate() / standalone.rate());
            details.put("follower_delivery_p50_us", cluster.followerP50());
            details.put("follower_delivery_p99_us", cluster.followerP99());
            details.put("follower_delivered_before_ack", cluster.deliveredFirst());
            return new BenchResult("cluster", cluster.events(), cluster.seconds(), cluster.rate(), cluster.rate() * options.payload() / 1e6,
                cluster.p50(), cluster.p99(), cluster.p999(), null, null, details);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Figures(long events, double seconds, double rate, Double p50, Double p99, Double p999, Double followerP50,
                           Double followerP99, Double deliveredFirst) {
    }

    /** Acknowledgement and delivery instants by position, for the follower's subscriber. */
    private record Deliveries(Map<Long, Long> acked, Map<Long, Long> received) {
    }

    private static Figures load(String servers, Bench.Options options, PrintStream progress, String name, boolean follower) {
        ClientSettings settings = ClientSettings.builder().servers(servers).requestTimeout(Duration.ofSeconds(60)).build();
        try (ReelClient client = ReelClient.connect(settings).block(Duration.ofMinutes(2))) {
            // the first appends wait for an election (cluster) and warm every JVM up
            closedLoop(client, options, Math.max(options.producers(), options.events() / options.batch() / 5), "warmup-", null, null);
            Histogram latency = new ConcurrentHistogram(MAX_LATENCY_NANOS, 3);
            Deliveries deliveries = new Deliveries(new java.util.concurrent.ConcurrentHashMap<>(), new java.util.concurrent.ConcurrentHashMap<>());
            ReelClient subscriber = follower ? ReelClient.connect(ClientSettings.builder().servers(followerOf(client))
                .requestTimeout(Duration.ofSeconds(60)).build()).block(Duration.ofMinutes(1)) : null;
            reactor.core.Disposable subscription = subscriber == null ? null : subscribeLive(subscriber, deliveries.received());
            try {
                long t0 = System.nanoTime();
                long appends = closedLoop(client, options, Math.max(options.producers(), options.events() / options.batch()), "bench-",
                    latency, subscriber == null ? null : deliveries);
                double seconds = (System.nanoTime() - t0) / 1e9;
                long events = appends * options.batch();
                progress.printf("%s: %d events in %.2f s%n", name, events, seconds);
                Histogram delivery = new Histogram(MAX_LATENCY_NANOS, 3);
                long deliveredFirst = 0;
                if (subscriber != null) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (deliveries.received().size() < deliveries.acked().size() && System.nanoTime() < deadline) {
                        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                    }
                    for (Map.Entry<Long, Long> acked : deliveries.acked().entrySet()) {
                        Long received = deliveries.received().get(acked.getKey());
                        long nanos = received == null ? MAX_LATENCY_NANOS : received - acked.getValue();
                        if (nanos < 0) {
                            deliveredFirst++;
                        }
                        delivery.recordValue(Math.min(MAX_LATENCY_NANOS, Math.max(0, nanos)));
                    }
                }
                return new Figures(events, seconds, events / seconds, micros(latency, 50), micros(latency, 99), micros(latency, 99.9),
                    micros(delivery, 50), micros(delivery, 99),
                    delivery.getTotalCount() == 0 ? null : (double) deliveredFirst / delivery.getTotalCount());
            } finally {
                if (subscription != null) {
                    subscription.dispose();
                }
                if (subscriber != null) {
                    subscriber.close();
                }
            }
        }
    }

    /** The RSocket address of a node that is not the leader, as the cluster tells it. */
    private static String followerOf(ReelClient client) {
        io.reel.proto.ClusterInfo info = client.clusterInfo().block(Duration.ofMinutes(1));
        return info.getMembersList().stream().filter(m -> !m.getId().equals(info.getLeaderId()) && !m.getRsocket().isEmpty())
            .map(io.reel.proto.ClusterMember::getRsocket).findFirst()
            .orElseThrow(() -> new ReelException(ErrorCode.UNAVAILABLE, "the cluster named no follower: " + info));
    }

    /** A live subscription from the end of the log, noting when each event arrives; returns once it is live. */
    private static reactor.core.Disposable subscribeLive(ReelClient subscriber, Map<Long, Long> received) {
        java.util.concurrent.CountDownLatch live = new java.util.concurrent.CountDownLatch(1);
        reactor.core.Disposable d = subscriber.subscribe(io.reel.store.SubscribeOptions.fromEnd()).subscribe(m -> {
            if (m instanceof io.reel.store.SubscriptionMessage.Event e) {
                received.put(e.event().position(), System.nanoTime());
            } else if (m instanceof io.reel.store.SubscriptionMessage.CaughtUp) {
                live.countDown();
            }
        });
        try {
            if (!live.await(60, TimeUnit.SECONDS)) {
                d.dispose();
                throw new ReelException(ErrorCode.UNAVAILABLE, "the follower's subscriber did not go live within 60 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            d.dispose();
            throw new ReelException(ErrorCode.CLOSED, "interrupted", e);
        }
        return d;
    }

    private static long closedLoop(ReelClient client, Bench.Options options, long total, String prefix, Histogram latency,
                                   Deliveries deliveries) {
        byte[] payload = new byte[options.payload()];
        long perProducer = Math.max(1, total / options.producers());
        AtomicLong done = new AtomicLong();
        Flux.range(0, options.producers()).flatMap(p -> Flux.range(0, (int) perProducer).concatMap(i -> {
            List<EventData> events = new ArrayList<>(options.batch());
            for (int e = 0; e < options.batch(); e++) {
                events.add(EventData.of("Bench", payload));
            }
            long start = System.nanoTime();
            return client.append(prefix + p + "-" + (i % Math.max(1, options.streams())), ExpectedRevision.ANY, events).doOnNext(r -> {
                long now = System.nanoTime();
                if (latency != null) {
                    latency.recordValue(Math.min(MAX_LATENCY_NANOS, now - start));
                }
                if (deliveries != null) {
                    for (long position = r.firstPosition(); position <= r.lastPosition(); position++) {
                        deliveries.acked().put(position, now);
                    }
                }
                done.incrementAndGet();
            });
        }), options.producers()).blockLast(Duration.ofHours(1));
        return done.get();
    }

    private static Double micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? null : h.getValueAtPercentile(percentile) / 1e3;
    }

    private static Process start(Path data, Path out, String... extra) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), ReelCommand.class.getName(), "server", "--data", data.toString(),
            "--rsocket-port", "0", "--ws-port", "0", "--http-port", "0"));
        command.addAll(List.of(extra));
        Files.createDirectories(data);
        return new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Waits for the child's {@code ready} line and returns its RSocket TCP address. */
    private static String awaitReady(Process process, Path out) throws IOException {
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < deadline) {
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
            if (lines.contains("ready")) {
                return lines.stream().filter(l -> l.startsWith("rsocket-tcp ")).findFirst().orElseThrow().substring("rsocket-tcp ".length());
            }
            if (!process.isAlive()) {
                throw new ReelException(ErrorCode.IO_ERROR, "a bench server exited with " + process.exitValue() + " before it was ready");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ReelException(ErrorCode.CLOSED, "interrupted while starting the bench's servers", e);
            }
        }
        throw new ReelException(ErrorCode.IO_ERROR, "a bench server was not ready within " + READY.toSeconds() + " s");
    }

    private static void stop(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
