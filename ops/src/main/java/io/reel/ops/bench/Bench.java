package io.reel.ops.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.store.Direction;
import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import io.reel.transport.ReelServer;
import io.reel.transport.ServerSettings;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The embedded workloads of {@code reel bench}: each measures the store on a fresh data directory and the
 * floor of the same disk in the same run. Speed is measured here and reported as figures; tests never
 * assert on it.
 */
public final class Bench {
    /** What to run: sizes, producers, payload, durability. */
    public record Options(Path dataDir, long events, int batch, int payload, int producers, Durability durability, int maxBatch,
                          int streams, boolean remote, boolean coalesce) {
        /** Remote appends coalesced by ReelClient (the default). */
        public Options(Path dataDir, long events, int batch, int payload, int producers, Durability durability, int maxBatch, int streams,
                       boolean remote) {
            this(dataDir, events, batch, payload, producers, durability, maxBatch, streams, remote, true);
        }

        public Options {
            if (events <= 0 || batch <= 0 || payload < 0 || producers <= 0 || streams <= 0) {
                throw new IllegalArgumentException("events, batch, producers and streams must be positive and payload not negative");
            }
        }
    }

    /** Measured rounds of {@code command} per caller, at most: 100 samples above the p99 on a quiet disk. */
    static final int COMMAND_ROUNDS = 10_000;

    private final Options options;
    private final PrintStream progress;
    private final byte[] payload;

    public Bench(Options options, PrintStream progress) {
        this.options = options;
        this.progress = progress;
        this.payload = new byte[options.payload()];
        new Random(7).nextBytes(payload);
    }

    /** The workloads this class runs. */
    public static List<String> workloads() {
        return List.of("append", "read", "read-stream", "subscribe", "e2e", "command", "projection", "restart", "group");
    }

    public BenchResult run(String workload) {
        try {
            return switch (workload) {
                case "append" -> options.remote() ? remoteAppend() : append();
                case "read" -> read();
                case "read-stream" -> readStream();
                case "subscribe" -> options.remote() ? remoteSubscribe() : subscribe();
                case "e2e" -> e2e();
                case "command" -> command();
                case "projection" -> projection();
                case "restart" -> restart();
                case "group" -> RemoteBench.group(freshDir("group"), settings(), options.events(),
                    options.streams() > 1 ? options.streams() : 1000, options.producers(), 64);
                default -> throw new IllegalArgumentException("unknown workload '" + workload + "'; choose one of " + workloads());
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private StoreSettings settings() {
        return StoreSettings.builder().durability(options.durability()).build();
    }

    private Path freshDir(String name) throws IOException {
        Path dir = options.dataDir().resolve(name);
        deleteTree(dir);
        Files.createDirectories(dir);
        return dir;
    }

    /**
     * Durable appends: {@code producers} closed-loop producers, each appending {@code batch} events at a time and
     * waiting for the acknowledgement before the next. Latency is per append, submit to acknowledgement.
     */
    @SuppressWarnings("try") // Progress prints while the block runs; the block needs no reference to it
    private BenchResult append() throws IOException {
        Path dir = freshDir("append");
        int batch = options.batch();
        int producers = options.producers();
        long appends = Math.max(producers, options.events() / batch);
        Latencies latencies = new Latencies();
        AtomicLong done = new AtomicLong();
        double seconds;
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        double recordBytes;
        double meanBatchEvents;
        double meanForceMicros;
        double warmupSeconds;
        StoreSettings metered = StoreSettings.builder().durability(options.durability()).meterRegistry(meters).build();
        try (EventStore store = EventStore.open(dir, metered); Progress p = new Progress("append", appends * batch, () -> done.get() * batch)) {
            // warm-up, not measured: the JIT compiles the append path before the clock runs, as it has long
            // compiled the floor's few lines when the floor is measured
            String[][] warmupStreams = ClosedLoops.streamNames("warmup-", producers, 1);
            warmupSeconds = ClosedLoops.warmUp(producers, appends * batch, 2 * Math.max(1, appends / producers),
                (producer, i) -> store.append(warmupStreams[producer][0], ExpectedRevision.ANY, events(batch)));
            // independent producers, each its own closed loop (no operator shared between them, as separate
            // clients would be): append, wait for the acknowledgement, append again
            String[][] streams = ClosedLoops.streamNames("bench-", producers, options.streams());
            long t0 = System.nanoTime();
            ClosedLoops.Outcome outcome = ClosedLoops.run(producers, appends / producers, Long.MAX_VALUE, ClosedLoops.MAX_LATENCY_NANOS,
                (producer, i) -> store.append(streams[producer][(int) (i % streams[producer].length)], ExpectedRevision.ANY, events(batch)));
            latencies.addAll(outcome.latencies());
            done.set(outcome.done());
            seconds = (System.nanoTime() - t0) / 1e9;
            // bytes on disk per event (frame header and EventRecord), read before the store closes its meters
            recordBytes = meters.counter("reel.append.bytes").count() / meters.counter("reel.append.events").count();
            // what the writer saw: events per group commit and the duration of its forces (warm-up included)
            meanBatchEvents = meters.get("reel.batch.size").summary().mean();
            meanForceMicros = meters.get("reel.fsync.latency").timer().mean(java.util.concurrent.TimeUnit.MICROSECONDS);
        }
        long events = done.get() * batch;
        FloorBench.Figures floor = floor(dir, (int) Math.min(events, 2_000_000));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("batch", batch);
        details.put("producers", producers);
        details.put("payload_bytes", options.payload());
        details.put("durability", options.durability().toString());
        details.put("bytes_per_event", Math.round(recordBytes * 10) / 10.0);
        details.put("events_per_commit", Math.round(meanBatchEvents * 10) / 10.0);
        details.put("force_mean_us", Math.round(meanForceMicros));
        details.put("warmup_seconds", Math.round(warmupSeconds * 10) / 10.0);
        details.put("floor_record_bytes", 8 + options.payload());
        details.put("floor_force_p50_us", floor.forceP50Micros());
        details.put("floor_force_p99_us", floor.forceP99Micros());
        double rate = events / seconds;
        deleteTree(dir);
        return new BenchResult("append", events, seconds, rate, rate * options.payload() / 1e6, latencies.p50(),
            latencies.p99(), latencies.p999(), floor.appendEventsPerSec(), rate / floor.appendEventsPerSec(), details);
    }

    /** Remote appends through ReelClient beside the embedded figure of the same configuration ({@link RemoteAppendBench}). */
    private BenchResult remoteAppend() throws IOException {
        BenchResult embedded = append();
        Path dir = freshDir("append-remote");
        try {
            return new RemoteAppendBench(options, payload).run(dir, embedded);
        } finally {
            deleteTree(dir);
        }
    }

    /** A catch-up read of {@code $all} from the start, embedded, against the floor's CRC-checked scan. */
    private BenchResult read() throws IOException {
        Path dir = freshDir("read");
        try (EventStore store = EventStore.open(dir, settings())) {
            populate(store, options.events());
            Pass best = bestOfThree(() -> store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).count().block());
            return scanResult("read", dir, best);
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * Whole-stream reads after a restart: {@code events} single-event appends spread round-robin over
     * {@code streams} streams (so that each stream's events lie far apart in the log), the store closed and
     * reopened so that its caches are cold, then every stream read whole, each read timed.
     */
    @SuppressWarnings("try") // Progress prints while the block runs; the block needs no reference to it
    private BenchResult readStream() throws IOException {
        Path dir = freshDir("read-stream");
        int streams = options.streams();
        long events = options.events();
        AtomicLong done = new AtomicLong();
        StoreSettings filling = StoreSettings.builder().durability(Durability.batched(Duration.ofMillis(10))).build();
        try (EventStore store = EventStore.open(dir, filling); Progress p = new Progress("populate", events, done::get)) {
            Flux.range(0, (int) events)
                .flatMap(i -> store.append("read-stream-" + (i % streams), ExpectedRevision.ANY, EventData.of("BenchEvent", payload))
                    .doOnNext(r -> done.incrementAndGet()), 256)
                .blockLast();
        }
        Latencies latencies = new Latencies();
        long read = 0;
        double seconds;
        try (EventStore store = EventStore.open(dir, settings())) {
            long t0 = System.nanoTime();
            for (int s = 0; s < streams; s++) {
                long start = System.nanoTime();
                Long n = store.readStream("read-stream-" + s, 0, 0, Direction.FORWARDS).count().block();
                latencies.record(System.nanoTime() - start);
                read += n == null ? 0 : n;
            }
            seconds = (System.nanoTime() - t0) / 1e9;
        } finally {
            deleteTree(dir);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("streams", streams);
        details.put("events_per_stream", events / streams);
        details.put("payload_bytes", options.payload());
        details.put("latency", "one whole-stream read");
        double rate = read / seconds;
        return new BenchResult("read-stream", read, seconds, rate, rate * options.payload() / 1e6, latencies.p50(),
            latencies.p99(), latencies.p999(), null, null, details);
    }

    /** An embedded subscription catching up from the start to the head, against the floor's scan. */
    private BenchResult subscribe() throws IOException {
        Path dir = freshDir("subscribe");
        try (EventStore store = EventStore.open(dir, settings())) {
            populate(store, options.events());
            Pass best = bestOfThree(() -> store.subscribe(SubscribeOptions.fromStart())
                .takeUntil(m -> m instanceof SubscriptionMessage.CaughtUp)
                .filter(m -> m instanceof SubscriptionMessage.Event)
                .count().block());
            return scanResult("subscribe", dir, best);
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * One remote subscriber (ReelClient over RSocket TCP on loopback, {@code max_batch} records per payload)
     * catching up from the start to the head, decoding every record, against the floor's scan.
     */
    private BenchResult remoteSubscribe() throws IOException {
        Path dir = freshDir("subscribe-remote");
        try (EventStore store = EventStore.open(dir, settings());
             ReelServer server = ReelServer.start(store, ServerSettings.builder().tcpPort(0).webSocketPort(0).build());
             ReelClient client = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort())
                 .maxBatch(options.maxBatch()).prefetch(Math.min(1024, Math.max(64, 4096 / options.maxBatch()))).build()).block()) {
            populate(store, options.events());
            long head = store.headPosition();
            Pass best = bestOfThree(() -> client.subscribe(SubscribeOptions.fromStart())
                .filter(m -> m instanceof SubscriptionMessage.Event)
                .take(head)
                .count().block());
            BenchResult r = scanResult("subscribe-remote", dir, best);
            r.details().put("max_batch", options.maxBatch());
            return r;
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * Append acknowledgement → a remote live subscriber (ReelClient, {@code max_batch} 1) receives the event, one
     * append at a time: the time from the moment the appender learns of the acknowledgement (the append's
     * {@code onNext}, on the thread that delivers it, before the caller waiting in {@code block()} wakes up) to the
     * moment the subscriber's {@code onNext} sees the event; 0 when the event reached the subscriber first. Beside
     * it, both legs from the moment the append was sent: to the acknowledgement and to the delivery.
     */
    private BenchResult e2e() throws IOException {
        Path dir = freshDir("e2e");
        int samples = (int) Math.min(options.events(), 20_000);
        int warmup = Math.min(1000, samples / 5);
        try (EventStore store = EventStore.open(dir, settings());
             ReelServer server = ReelServer.start(store, ServerSettings.builder().tcpPort(0).webSocketPort(0).build());
             ReelClient consumer = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort()).maxBatch(1)
                 .prefetch(64).build()).block();
             ReelClient producer = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort()).build()).block()) {
            java.util.concurrent.ConcurrentHashMap<Long, Long> received = new java.util.concurrent.ConcurrentHashMap<>();
            java.util.concurrent.Semaphore arrivals = new java.util.concurrent.Semaphore(0);
            java.util.concurrent.CountDownLatch live = new java.util.concurrent.CountDownLatch(1);
            reactor.core.Disposable subscription = consumer.subscribe(SubscribeOptions.fromEnd()).subscribe(m -> {
                if (m instanceof SubscriptionMessage.Event e) {
                    received.put(e.event().position(), System.nanoTime());
                    arrivals.release();
                } else if (m instanceof SubscriptionMessage.CaughtUp) {
                    live.countDown();
                }
            });
            try {
                if (!live.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the remote subscriber did not go live");
                }
                Latencies afterAck = new Latencies();
                Latencies toAck = new Latencies();
                Latencies toDelivery = new Latencies();
                long deliveredFirst = 0;
                AtomicLong ackedAt = new AtomicLong();
                long t0 = System.nanoTime();
                for (int i = 0; i < samples + warmup; i++) {
                    EventData ping = EventData.of("Ping", payload);
                    long sent = System.nanoTime();
                    long position = (options.remote() ? producer.append("e2e", ExpectedRevision.ANY, ping) : store.append("e2e",
                        ExpectedRevision.ANY, ping)).doOnNext(r -> ackedAt.set(System.nanoTime())).block().lastPosition();
                    long acked = ackedAt.get();
                    if (!arrivals.tryAcquire(10, java.util.concurrent.TimeUnit.SECONDS)) {
                        throw new IllegalStateException("the subscriber did not receive position " + position);
                    }
                    if (i >= warmup) {
                        long delivered = received.remove(position);
                        afterAck.record(delivered - acked);
                        toAck.record(acked - sent);
                        toDelivery.record(delivered - sent);
                        deliveredFirst += delivered < acked ? 1 : 0;
                    } else {
                        received.remove(position);
                    }
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("durability", options.durability().toString());
                details.put("ack_p50_us", toAck.p50());
                details.put("ack_p99_us", toAck.p99());
                details.put("delivery_p50_us", toDelivery.p50());
                details.put("delivery_p99_us", toDelivery.p99());
                details.put("delivery_p999_us", toDelivery.p999());
                details.put("delivered_before_ack", Math.round(1000.0 * deliveredFirst / samples) / 1000.0);
                details.put("measured", (options.remote() ? "remote (ReelClient)" : "embedded") + " append ack -> remote live subscriber"
                    + " receives (ReelClient over TCP loopback, max_batch 1); ack_ and delivery_ from the append's send");
                return new BenchResult(options.remote() ? "e2e-remote" : "e2e", samples, seconds, (samples + warmup) / seconds, 0, afterAck.p50(),
                    afterAck.p99(), afterAck.p999(), null, null, details);
            } finally {
                subscription.dispose();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * An aggregate round trip (command → decide → durable append → evolve), taking turns in one loop with a plain
     * append of the same event and the floor's small write and force, so that all three see the same disk; latency
     * against that force latency. At most {@link #COMMAND_ROUNDS} rounds per caller (and at most
     * {@link CommandBench#LOOP_BUDGET} each): every round costs two durable appends and a force, one after the other.
     */
    @SuppressWarnings("try") // Progress prints while the block runs; the block needs no reference to it
    private BenchResult command() throws IOException {
        Path dir = freshDir("command");
        int rounds = (int) Math.min(options.events(), COMMAND_ROUNDS);
        int warmup = Math.min(2000, Math.max(100, rounds / 5));
        CommandBench.Latency[] parking;
        CommandBench.Latency[] spinning;
        CommandBench.LoadTimes load;
        AtomicLong done = new AtomicLong();
        try (EventStore store = EventStore.open(dir, settings()); FloorBench.Forcer forcer = new FloorBench.Forcer(dir, 8);
             Progress p = new Progress("command", 2L * rounds, done::get)) {
            parking = CommandBench.commandsBesideAppends(store, forcer, warmup, rounds, 100, false, done);
            spinning = CommandBench.commandsBesideAppends(store, forcer, warmup, rounds, 100, true, done);
            load = CommandBench.load(store, (int) Math.min(options.events(), 100_000));
        } finally {
            deleteTree(dir);
        }
        CommandBench.Latency append = parking[0];
        CommandBench.Latency command = parking[1];
        CommandBench.Latency force = parking[2];
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("durability", options.durability().toString());
        // the floor's force: an 8-byte event's frame written and forced, in the same loop as the commands
        details.put("floor_force_p50_us", force.p50Us());
        details.put("floor_force_p99_us", force.p99Us());
        details.put("command_minus_force_p50_us", command.p50Us() - force.p50Us());
        details.put("append_p50_us", append.p50Us());
        details.put("append_p99_us", append.p99Us());
        // the same loop with a caller that spins for its result instead of sleeping: no futex wake-up per round
        details.put("spinning_caller_rounds", spinning[1].operations());
        details.put("spinning_caller_append_p50_us", spinning[0].p50Us());
        details.put("spinning_caller_command_p50_us", spinning[1].p50Us());
        details.put("spinning_caller_command_p99_us", spinning[1].p99Us());
        details.put("spinning_caller_floor_force_p50_us", spinning[2].p50Us());
        // loading one long aggregate (in a fresh repository, so from the log), from its events and from a snapshot
        details.put("load_events", load.events());
        details.put("load_from_events_ms", load.withoutSnapshotMs());
        details.put("load_from_snapshot_ms", load.withSnapshotMs());
        return new BenchResult("command", command.operations(), command.seconds(), command.perSecond(), 0, command.p50Us(),
            command.p99Us(), command.p999Us(), null, null, details);
    }

    /** The built-in event-types projection catching up over the whole log, embedded or over ReelClient. */
    private BenchResult projection() throws IOException {
        Path dir = freshDir("projection");
        try (EventStore store = EventStore.open(dir, settings())) {
            populate(store, options.events());
            ProjectionBench.Result r;
            if (options.remote()) {
                try (ReelServer server = ReelServer.start(store, ServerSettings.builder().tcpPort(0).webSocketPort(0).build());
                     ReelClient client = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort())
                         .maxBatch(options.maxBatch()).build()).block()) {
                    r = ProjectionBench.warmThenMeasure("projection-remote", client,
                        io.reel.projection.EventTypeCounts.projection(), dir.resolve("projection-checkpoints"));
                }
            } else {
                r = ProjectionBench.warmThenMeasure("projection", store, io.reel.projection.EventTypeCounts.projection(),
                    dir.resolve("projection-checkpoints"));
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("projection", "event-types");
            details.put("remote", options.remote());
            details.put("runs", "the second of two, the first warms up");
            return new BenchResult(r.workload(), r.events(), r.seconds(), r.eventsPerSec(), 0, null, null, null, null, null, details);
        } finally {
            deleteTree(dir);
        }
    }

    /** One timed pass over the log. */
    private record Pass(long events, double seconds, double firstPassEventsPerSec) {
    }

    /**
     * The fastest of three passes over the same store, as the floor's scan is the best of three: the first
     * pass also pays for JIT compilation and for the stages still settling after the populate, so its rate
     * is reported beside the best as {@code first_pass_events_per_sec}.
     */
    private Pass bestOfThree(Supplier<Long> pass) {
        long bestEvents = 0;
        double bestSeconds = 0;
        double first = 0;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            long n = pass.get();
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (i == 0) {
                first = n / seconds;
            }
            if (i == 0 || n / seconds > bestEvents / bestSeconds) {
                bestEvents = n;
                bestSeconds = seconds;
            }
        }
        return new Pass(bestEvents, bestSeconds, first);
    }

    private BenchResult scanResult(String workload, Path dir, Pass best) throws IOException {
        long n = best.events();
        double floor = FloorBench.scan(dir, (int) Math.min(n, 5_000_000), options.payload());
        double rate = n / best.seconds();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("payload_bytes", options.payload());
        details.put("passes", 3);
        details.put("first_pass_events_per_sec", Math.round(best.firstPassEventsPerSec()));
        return new BenchResult(workload, n, best.seconds(), rate, rate * options.payload() / 1e6, null, null, null, floor, rate / floor, details);
    }

    /**
     * Reopening a store after a clean shutdown, in a fresh JVM ({@link RestartProbe}) so that the figures are
     * the open's alone: open time, heap held per event after opening (mostly the stream index), and
     * readStream latency for a 1,000-event stream spread through the whole log.
     */
    private BenchResult restart() throws IOException {
        Path dir = freshDir("restart");
        long events;
        try (EventStore store = EventStore.open(dir, settings())) {
            populate(store, options.events());
            events = store.headPosition();
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process probe = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), RestartProbe.class.getName(), dir.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line;
        try (var out = new java.io.BufferedReader(new java.io.InputStreamReader(probe.getInputStream()))) {
            line = out.readLine();
            probe.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        if (line == null || probe.exitValue() != 0) {
            throw new IllegalStateException("the restart probe failed (exit " + probe.exitValue() + ")");
        }
        String[] f = line.trim().split(" ");
        double openSeconds = Double.parseDouble(f[0]);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("open_seconds", openSeconds);
        details.put("heap_bytes_per_event", Long.parseLong(f[1]) / (double) events);
        details.put("streams", options.streams());
        details.put("read_stream_1000_p50_us", Double.parseDouble(f[2]));
        details.put("read_stream_1000_p99_us", Double.parseDouble(f[3]));
        deleteTree(dir);
        return new BenchResult("restart", events, openSeconds, events / openSeconds, 0, null, null, null, null, null, details);
    }

    /**
     * Fills a store with {@code events} events in 1,000-event appends over {@code streams} streams, plus five
     * streams of exactly 1,000 events spread through the whole log.
     */
    @SuppressWarnings("try") // Progress prints while the block runs; the block needs no reference to it
    private void populate(EventStore store, long events) {
        long appends = Math.max(1, events / 1000);
        long every = Math.max(1, appends / 1000);
        AtomicLong done = new AtomicLong();
        AtomicLong targets = new AtomicLong();
        try (Progress p = new Progress("populate", appends * 1000, () -> done.get() * 1000)) {
            Flux.range(0, (int) appends).concatMap(i -> {
                Mono<Void> big = store.append("stream-" + (i % options.streams()), ExpectedRevision.ANY, events(1000)).then();
                Mono<Void> target = i % every == 0 && targets.get() < 1000 ? appendTargets(store, targets) : Mono.empty();
                return big.then(target).doOnSuccess(v -> done.incrementAndGet());
            }, 4).blockLast();
            while (targets.get() < 1000) {
                appendTargets(store, targets).block();
            }
        }
    }

    /** One event to each of the five 1,000-event target streams. */
    private Mono<Void> appendTargets(EventStore store, AtomicLong targets) {
        targets.incrementAndGet();
        return Flux.range(0, 5).concatMap(t -> store.append("target-" + t, ExpectedRevision.ANY, EventData.of("Target", payload))).then();
    }

    private List<EventData> events(int n) {
        List<EventData> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(EventData.of("BenchEvent", payload));
        }
        return list;
    }

    private FloorBench.Figures floor(Path dir, int events) throws IOException {
        int n = Math.max(100_000, Math.min(events, 2_000_000));
        double append = FloorBench.durableAppend(dir, n, options.payload(), 1000);
        double[] force = FloorBench.forceLatency(dir, 2000, options.payload());
        return new FloorBench.Figures(append, force[0], force[1], 0);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Prints progress to stderr about once a second on long runs. */
    private final class Progress implements AutoCloseable {
        private final reactor.core.Disposable ticker;

        Progress(String what, long total, Supplier<Long> done) {
            this.ticker = progress == null ? null : Flux.interval(Duration.ofSeconds(2))
                .subscribe(t -> progress.printf("%s: %,d / %,d events%n", what, done.get(), total));
        }

        @Override
        public void close() {
            if (ticker != null) {
                ticker.dispose();
            }
        }
    }
}
