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
    private static final Duration MIN_WARMUP = Duration.ofSeconds(10);
    private static final Duration MAX_WARMUP = Duration.ofMinutes(8);
    private static final Duration WARMUP_ROUND = Duration.ofSeconds(5);
    /** Runs measuring fewer events than this (a smoke test) warm up for one round. */
    private static final long SHORT_RUN_EVENTS = 100_000;
    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

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
                    peers.add(id + "=127.0.0.1:" + LoopbackPorts.next());
                }
                List<Path> outs = new ArrayList<>();
                for (String id : ids) {
                    Path out = dir.resolve("node-" + id + ".out");
                    outs.add(out);
                    nodes.add(start(dir.resolve("node-" + id), out, "--node-id", id, "--peers", peers.toString()));
                }
                List<Started> started = new ArrayList<>();
                for (int i = 0; i < ids.size(); i++) {
                    started.add(awaitReady(nodes.get(i), outs.get(i)));
                }
                cluster = load(started, options, progress, "cluster", true);
            } finally {
                nodes.forEach(ClusterBench::stop);
            }
            progress.println("starting a standalone server...");
            Figures standalone;
            Process single = start(dir.resolve("standalone"), dir.resolve("standalone.out"));
            try {
                standalone = load(List.of(awaitReady(single, dir.resolve("standalone.out"))), options, progress, "standalone", false);
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
            details.put("warmup_seconds", Math.round(cluster.warmupSeconds()));
            details.put("standalone_warmup_seconds", Math.round(standalone.warmupSeconds()));
            return new BenchResult("cluster", cluster.events(), cluster.seconds(), cluster.rate(), cluster.rate() * options.payload() / 1e6,
                cluster.p50(), cluster.p99(), cluster.p999(), null, null, details);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Figures(long events, double seconds, double rate, Double p50, Double p99, Double p999, Double followerP50,
                           Double followerP99, Double deliveredFirst, double warmupSeconds) {
    }

    /**
     * Acknowledgement and delivery instants of the positions from {@code base} on, for the follower's subscriber, in
     * arrays: maps of boxed positions and instants (400 k objects a run) made this JVM's own young pauses 12–34 ms
     * every two seconds, which landed in the delivery figure of the events in flight.
     */
    private static final class Deliveries {
        private final long base;
        private final java.util.concurrent.atomic.AtomicLongArray acked;
        private final java.util.concurrent.atomic.AtomicLongArray received;
        private final AtomicLong ackedCount = new AtomicLong();
        private final AtomicLong receivedCount = new AtomicLong();

        Deliveries(long base, int capacity) {
            this.base = base;
            this.acked = new java.util.concurrent.atomic.AtomicLongArray(capacity);
            this.received = new java.util.concurrent.atomic.AtomicLongArray(capacity);
        }

        void acked(long position, long nanos) {
            note(acked, ackedCount, position, nanos);
        }

        void received(long position, long nanos) {
            note(received, receivedCount, position, nanos);
        }

        private void note(java.util.concurrent.atomic.AtomicLongArray instants, AtomicLong count, long position, long nanos) {
            long i = position - base;
            if (i >= 0 && i < instants.length() && instants.compareAndSet((int) i, 0, nanos)) {
                count.incrementAndGet();
            }
        }

        boolean allReceived() {
            return receivedCount.get() >= ackedCount.get();
        }
    }

    private static Figures load(List<Started> started, Bench.Options options, PrintStream progress, String name, boolean follower) {
        StringJoiner servers = new StringJoiner(",");
        started.forEach(s -> servers.add(s.rsocket()));
        String list = follower ? leaderFirst(servers.toString()) : servers.toString();
        ClientSettings settings = ClientSettings.builder().servers(list).requestTimeout(Duration.ofSeconds(60)).build();
        try (ReelClient client = ReelClient.connect(settings).block(Duration.ofMinutes(2))) {
            // the first appends wait for an election (cluster) and warm every JVM up
            double warmupSeconds = warmUp(client, options, started, progress, name);
            Histogram latency = new ConcurrentHistogram(MAX_LATENCY_NANOS, 3);
            long measured = Math.max(options.producers(), options.events() / options.batch());
            Deliveries deliveries = new Deliveries(client.info().block(Duration.ofMinutes(1)).head(),
                (int) Math.min(Integer.MAX_VALUE - 8, measured * options.batch() + 4096));
            ReelClient subscriber = follower ? ReelClient.connect(ClientSettings.builder().servers(followerOf(client))
                .requestTimeout(Duration.ofSeconds(60)).build()).block(Duration.ofMinutes(1)) : null;
            reactor.core.Disposable subscription = subscriber == null ? null : subscribeLive(subscriber, deliveries);
            try {
                long t0 = System.nanoTime();
                long appends = closedLoop(client, options, measured, "bench-", latency, subscriber == null ? null : deliveries, Long.MAX_VALUE);
                double seconds = (System.nanoTime() - t0) / 1e9;
                long events = appends * options.batch();
                progress.printf("%s: %d events in %.2f s%n", name, events, seconds);
                Histogram delivery = new Histogram(MAX_LATENCY_NANOS, 3);
                long deliveredFirst = 0;
                if (subscriber != null) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (!deliveries.allReceived() && System.nanoTime() < deadline) {
                        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                    }
                    for (int i = 0; i < deliveries.acked.length(); i++) {
                        long acked = deliveries.acked.get(i);
                        if (acked == 0) {
                            continue;
                        }
                        long received = deliveries.received.get(i);
                        long nanos = received == 0 ? MAX_LATENCY_NANOS : received - acked;
                        if (nanos < 0) {
                            deliveredFirst++;
                        }
                        delivery.recordValue(Math.min(MAX_LATENCY_NANOS, Math.max(0, nanos)));
                    }
                }
                return new Figures(events, seconds, events / seconds, micros(latency, 50), micros(latency, 99), micros(latency, 99.9),
                    micros(delivery, 50), micros(delivery, 99),
                    delivery.getTotalCount() == 0 ? null : (double) deliveredFirst / delivery.getTotalCount(), warmupSeconds);
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

    /**
     * The servers with the leader's first, once one is elected: the producers' client connects to the leader, as
     * EventStoreDB's clients do by default (a follower forwards writes to it, one more hop per entry), so that the
     * figure does not depend on which node the election picked.
     */
    private static String leaderFirst(String servers) {
        try (ReelClient probe = ReelClient.connect(ClientSettings.builder().servers(servers).requestTimeout(Duration.ofSeconds(60)).build())
            .block(Duration.ofMinutes(2))) {
            long deadline = System.nanoTime() + READY.toNanos();
            while (System.nanoTime() < deadline) {
                io.reel.proto.ClusterInfo info = probe.clusterInfo().block(Duration.ofMinutes(1));
                java.util.Optional<String> leader = info.getMembersList().stream().filter(m -> m.getId().equals(info.getLeaderId())
                    && !m.getRsocket().isEmpty()).map(io.reel.proto.ClusterMember::getRsocket).findFirst();
                if (leader.isPresent()) {
                    StringJoiner ordered = new StringJoiner(",").add(leader.get());
                    java.util.Arrays.stream(servers.split(",")).filter(s -> !s.equals(leader.get())).forEach(ordered::add);
                    return ordered.toString();
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
            }
            throw new ReelException(ErrorCode.UNAVAILABLE, "the cluster elected no leader within " + READY.toSeconds() + " s");
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
    private static reactor.core.Disposable subscribeLive(ReelClient subscriber, Deliveries deliveries) {
        java.util.concurrent.CountDownLatch live = new java.util.concurrent.CountDownLatch(1);
        reactor.core.Disposable d = subscriber.subscribe(io.reel.store.SubscribeOptions.fromEnd()).subscribe(m -> {
            if (m instanceof io.reel.store.SubscriptionMessage.Event e) {
                deliveries.received(e.event().position(), System.nanoTime());
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

    /**
     * Appends, unmeasured, until every server's JIT has settled: at least {@link #MIN_WARMUP}, then round by round
     * until no server's compilers used more than 5% of a core in the last round (read from its {@code /metrics}),
     * at most {@link #MAX_WARMUP}. Four JVMs on two cores keep C2 busy for minutes: on the reference machine a
     * cluster went from 1.7 k to 6.5 k events/s only after 4½ minutes of load, so a fixed warm-up measured the JIT.
     * Returns the seconds it took.
     */
    private static double warmUp(ReelClient client, Bench.Options options, List<Started> started, PrintStream progress, String name) {
        long start = System.nanoTime();
        double[] compiled = compilationMillis(started);
        while (true) {
            long roundStart = System.nanoTime();
            long appends = closedLoop(client, options, (long) Integer.MAX_VALUE * options.producers(), "warmup-", null, null, roundStart + WARMUP_ROUND.toNanos());
            double roundMillis = (System.nanoTime() - roundStart) / 1e6;
            double[] now = compilationMillis(started);
            double busiest = 0;
            for (int i = 0; i < now.length; i++) {
                busiest = Math.max(busiest, (now[i] - compiled[i]) / roundMillis);
            }
            compiled = now;
            long elapsed = System.nanoTime() - start;
            progress.printf("%s warm-up: %d s, %,.0f events/s, busiest JIT %.2f cores%n", name, TimeUnit.NANOSECONDS.toSeconds(elapsed),
                appends * options.batch() / (roundMillis / 1e3), busiest);
            if ((elapsed >= MIN_WARMUP.toNanos() && busiest < 0.05) || elapsed >= MAX_WARMUP.toNanos()
                || options.events() < SHORT_RUN_EVENTS) {
                return elapsed / 1e9;
            }
        }
    }

    /** Each server's JIT compilation time so far ({@code jvm_compilation_time_ms_total}), in milliseconds; 0 where unknown. */
    private static double[] compilationMillis(List<Started> started) {
        double[] millis = new double[started.size()];
        for (int i = 0; i < millis.length; i++) {
            try {
                java.net.http.HttpResponse<java.util.stream.Stream<String>> r = HTTP.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://" + started.get(i).http() + "/metrics")).timeout(Duration.ofSeconds(30)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofLines());
                millis[i] = r.body().filter(l -> l.startsWith("jvm_compilation_time_ms_total"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
            } catch (IOException | RuntimeException e) {
                millis[i] = 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ReelException(ErrorCode.CLOSED, "interrupted", e);
            }
        }
        return millis;
    }

    private static long closedLoop(ReelClient client, Bench.Options options, long total, String prefix, Histogram latency,
                                   Deliveries deliveries, long deadlineNanos) {
        byte[] payload = new byte[options.payload()];
        long perProducer = Math.max(1, total / options.producers());
        AtomicLong done = new AtomicLong();
        Flux.range(0, options.producers()).flatMap(p -> Flux.range(0, (int) Math.min(Integer.MAX_VALUE, perProducer))
            .takeWhile(i -> System.nanoTime() - deadlineNanos < 0).concatMap(i -> {
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
                        deliveries.acked(position, now);
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
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(errorsOf(out).toFile()).start();
        // a bench stopped with Ctrl-C must not leave its servers running (holding ports, and the data it then deletes)
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "reel-bench-child-stop"));
        return process;
    }

    /** Where a child's standard error goes: beside its output, so a failed start can say why. */
    private static Path errorsOf(Path out) {
        return out.resolveSibling(out.getFileName() + ".err");
    }

    /** A started server's RSocket TCP and HTTP addresses. */
    private record Started(String rsocket, String http) {
    }

    /** Waits for the child's {@code ready} line and returns its addresses. */
    private static Started awaitReady(Process process, Path out) throws IOException {
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < deadline) {
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
            if (lines.contains("ready")) {
                return new Started(address(lines, "rsocket-tcp "), address(lines, "http "));
            }
            if (!process.isAlive()) {
                List<String> errors = Files.exists(errorsOf(out)) ? Files.readAllLines(errorsOf(out), StandardCharsets.UTF_8) : List.of();
                String why = errors.stream().filter(l -> l.startsWith("error:")).reduce((a, b) -> b)
                    .orElse(errors.isEmpty() ? "" : errors.get(errors.size() - 1));
                throw new ReelException(ErrorCode.IO_ERROR, "a bench server exited with " + process.exitValue() + " before it was ready"
                    + (why.isEmpty() ? "" : ": " + why));
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

    private static String address(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow().substring(prefix.length());
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
}
