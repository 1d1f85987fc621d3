package io.reel.transport;

import io.reel.transport.internal.MetadataCodec;
import io.netty.buffer.ByteBuf;
import io.reel.proto.SubscribeRequest;
import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.frame.decoder.PayloadDecoder;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.util.DefaultPayload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Brief loopback measurements of the remote paths, printed one JSON object a line (the fields of {@code reel bench}):
 *
 * <ul>
 *   <li>{@code subscribe-remote}: one remote subscriber catching up from the start of a preloaded log, with
 *       {@code max_batch} 1 and 500, through a raw rsocket-java client (counts records, decodes nothing) and
 *       through {@link ReelClient} (decodes every record into a {@code RecordedEvent});</li>
 *   <li>{@code e2e}: append ack (a remote append, FSYNC) → a remote live subscriber receives the event;</li>
 *   <li>{@code append-remote}: single-event remote appends (FSYNC, group commit) from 64 concurrent callers.</li>
 * </ul>
 *
 * Run: {@code java -cp <test classpath> io.reel.transport.RemoteBench [events] [dir] [subscribe,e2e,append]}. Server and clients share
 * one JVM and the machine's cores.
 */
public final class RemoteBench {
    private RemoteBench() {
    }

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        Path dir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("reel-remote-bench");
        List<String> workloads = List.of((args.length > 2 ? args[2] : "subscribe,e2e,append").split(","));
        try {
            if (workloads.contains("subscribe")) {
                catchUp(dir.resolve("catch-up"), events);
            }
            if (workloads.contains("e2e")) {
                e2e(dir.resolve("e2e"), 3000);
            }
            if (workloads.contains("append")) {
                appends(dir.resolve("appends"), 64, Duration.ofSeconds(5));
            }
        } finally {
            deleteRecursively(dir);
        }
        System.exit(0);
    }

    static ServerSettings settings() {
        return ServerSettings.builder().tcpPort(0).webSocketPort(0).build();
    }

    // ------------------------------------------------------------------------------------- catch-up

    static void catchUp(Path dir, int events) throws Exception {
        StoreSettings storeSettings = StoreSettings.builder().durability(Durability.batched(Duration.ofMillis(50))).build();
        try (EventStore store = EventStore.open(dir, storeSettings); ReelServer server = ReelServer.start(store, settings())) {
            byte[] payload = new byte[100];
            List<EventData> batch = IntStream.range(0, 1000).mapToObj(i -> EventData.of("Happened", payload)).toList();
            Flux.range(0, events / 1000)
                .flatMap(i -> store.append("stream-" + (i % 100), ExpectedRevision.ANY,
                    batch.stream().map(e -> e.withEventId(java.util.UUID.randomUUID())).toList()), 8)
                .blockLast();
            long bytes = store.info().bytes();
            for (int maxBatch : new int[] {1, 500}) {
                for (int run = 0; run < 2; run++) {
                    double seconds = rawCatchUp(server, events, maxBatch);
                    report("subscribe-remote", "raw client", maxBatch, events, seconds, bytes, null);
                }
                for (int run = 0; run < 2; run++) {
                    double seconds = clientCatchUp(server, events, maxBatch);
                    report("subscribe-remote", "ReelClient", maxBatch, events, seconds, bytes, null);
                }
            }
        }
    }

    static double rawCatchUp(ReelServer server, int events, int maxBatch) {
        RSocket rsocket = RSocketConnector.create().dataMimeType(WireFormat.PROTOBUF.mimeType())
            .metadataMimeType(MetadataCodec.COMPOSITE).payloadDecoder(PayloadDecoder.ZERO_COPY)
            .connect(TcpClientTransport.create(server.tcpAddress())).block();
        try {
            byte[] request = SubscribeRequest.newBuilder().setStart(true).setMaxBatch(maxBatch).build().toByteArray();
            AtomicLong received = new AtomicLong();
            long started = System.nanoTime();
            rsocket.requestStream(DefaultPayload.create(request, MetadataCodec.routeMetadata("subscribe")))
                .limitRate(maxBatch > 1 ? 16 : 1024)
                .map(p -> {
                    try {
                        return maxBatch > 1 ? countRecords(p.sliceData()) : 1;
                    } finally {
                        p.release();
                    }
                })
                .takeUntil(n -> received.addAndGet(n) >= events)
                .blockLast(Duration.ofMinutes(5));
            return (System.nanoTime() - started) / 1e9;
        } finally {
            rsocket.dispose();
        }
    }

    /** Records in an EventBatch: each is tag 0x0A, a varint length, the record. */
    static int countRecords(ByteBuf batch) {
        int n = 0;
        while (batch.isReadable()) {
            batch.readByte();
            int length = 0;
            int shift = 0;
            byte b;
            do {
                b = batch.readByte();
                length |= (b & 0x7F) << shift;
                shift += 7;
            } while (b < 0);
            batch.skipBytes(length);
            n++;
        }
        return n;
    }

    static double clientCatchUp(ReelServer server, int events, int maxBatch) {
        ClientSettings settings = ClientSettings.builder().port(server.tcpAddress().getPort()).maxBatch(maxBatch)
            .prefetch(maxBatch > 1 ? 16 : 1024).build();
        try (ReelClient client = ReelClient.connect(settings).block()) {
            AtomicLong received = new AtomicLong();
            long started = System.nanoTime();
            client.subscribe(SubscribeOptions.fromStart())
                .takeUntil(m -> m instanceof SubscriptionMessage.Event && received.incrementAndGet() >= events)
                .blockLast(Duration.ofMinutes(5));
            return (System.nanoTime() - started) / 1e9;
        }
    }

    // ------------------------------------------------------------------------------------- e2e

    static void e2e(Path dir, int samples) throws Exception {
        try (EventStore store = EventStore.open(dir); ReelServer server = ReelServer.start(store, settings());
             ReelClient producer = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort()).build()).block();
             ReelClient consumer = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort()).maxBatch(1)
                 .prefetch(64).build()).block()) {
            e2e(samples, consumer, "embedded append ack (the store's)",
                event -> store.append("e2e", ExpectedRevision.ANY, event).block().lastPosition());
            e2e(samples, consumer, "remote append ack (ReelClient's)",
                event -> producer.append("e2e", ExpectedRevision.ANY, event).block().lastPosition());
        }
    }

    static void e2e(int samples, ReelClient consumer, String producer, java.util.function.ToLongFunction<EventData> append)
        throws InterruptedException {
        int warmup = 300;
        java.util.concurrent.ConcurrentHashMap<Long, Long> received = new java.util.concurrent.ConcurrentHashMap<>();
        CountDownLatch caughtUp = new CountDownLatch(1);
        java.util.concurrent.Semaphore arrivals = new java.util.concurrent.Semaphore(0);
        Disposable subscription = consumer.subscribe(SubscribeOptions.fromEnd()).subscribe(m -> {
            if (m instanceof SubscriptionMessage.Event e) {
                received.put(e.event().position(), System.nanoTime());
                arrivals.release();
            } else if (m instanceof SubscriptionMessage.CaughtUp) {
                caughtUp.countDown();
            }
        });
        caughtUp.await(10, TimeUnit.SECONDS);
        long[] afterAck = new long[samples];
        int receivedFirst = 0;
        byte[] payload = new byte[100];
        for (int i = 0; i < samples + warmup; i++) {
            long position = append.applyAsLong(EventData.of("Ping", payload));
            long acked = System.nanoTime();
            if (!arrivals.tryAcquire(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the subscriber did not receive position " + position);
            }
            if (i >= warmup) {
                long at = received.get(position);
                afterAck[i - warmup] = Math.max(0, at - acked);
                receivedFirst += at <= acked ? 1 : 0;
            }
        }
        subscription.dispose();
        Arrays.sort(afterAck);
        report("e2e", producer + " -> remote live subscriber (ReelClient, max_batch 1) receives; FSYNC; " + receivedFirst
            + " received before the ack (counted as 0)", 1, samples, 0, 0, afterAck);
    }

    // ------------------------------------------------------------------------------------- appends

    static void appends(Path dir, int callers, Duration duration) throws Exception {
        try (EventStore store = EventStore.open(dir); ReelServer server = ReelServer.start(store, settings());
             ReelClient client = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort()).build()).block()) {
            concurrentAppends("append-embedded", callers + " concurrent callers on the embedded store (the baseline), FSYNC",
                callers, duration, (stream, event) -> store.append(stream, ExpectedRevision.ANY, event));
            concurrentAppends("append-remote", callers + " concurrent callers, single-event appends, FSYNC, one connection",
                callers, duration, (stream, event) -> client.append(stream, ExpectedRevision.ANY, event));
        }
    }

    static void concurrentAppends(String workload, String how, int callers, Duration duration,
                                  java.util.function.BiFunction<String, EventData, Mono<io.reel.store.AppendResult>> append) {
        byte[] payload = new byte[100];
        long deadline = System.nanoTime() + duration.toNanos();
        List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        long started = System.nanoTime();
        long cpuStarted = cpuNanos();
        long[] threadsStarted = threadTimes();
        Long count = Flux.range(0, callers)
            .flatMap(caller -> Mono.defer(() -> {
                    long t0 = System.nanoTime();
                    return append.apply("caller-" + caller, EventData.of("Appended", payload))
                        .doOnNext(r -> latencies.add(System.nanoTime() - t0));
                })
                .repeat(() -> System.nanoTime() < deadline), callers)
            .count().block();
        double seconds = (System.nanoTime() - started) / 1e9;
        double cpuPerEvent = (cpuNanos() - cpuStarted) / 1e3 / count;
        long[] threadsEnded = threadTimes();
        System.err.printf(Locale.ROOT, "%s: threads cpu %.0f us/append, of which user %.0f us%n", workload,
            (threadsEnded[0] - threadsStarted[0]) / 1e3 / count, (threadsEnded[1] - threadsStarted[1]) / 1e3 / count);
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        report(workload, how + String.format(Locale.ROOT, ", %.0f us of CPU per append", cpuPerEvent), 1, count, seconds,
            count * 100, sorted);
    }

    // ------------------------------------------------------------------------------------- output

    static void report(String workload, String how, int maxBatch, long events, double seconds, long bytes, long[] sortedNanos) {
        StringBuilder json = new StringBuilder();
        json.append(String.format(Locale.ROOT, "{\"workload\":\"%s\",\"how\":\"%s\",\"max_batch\":%d,\"events\":%d", workload, how,
            maxBatch, events));
        if (seconds > 0) {
            json.append(String.format(Locale.ROOT, ",\"seconds\":%.3f,\"events_per_sec\":%.0f,\"mb_per_sec\":%.1f", seconds,
                events / seconds, bytes / seconds / 1e6));
        }
        if (sortedNanos != null && sortedNanos.length > 0) {
            json.append(String.format(Locale.ROOT, ",\"p50_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f",
                percentile(sortedNanos, 0.5) / 1e3, percentile(sortedNanos, 0.99) / 1e3, percentile(sortedNanos, 0.999) / 1e3));
        }
        System.out.println(json.append('}'));
    }

    /** CPU and user time summed over the live threads (threads that ended meanwhile are not counted). */
    static final java.util.Map<String, Long> LAST = new java.util.HashMap<>();

    static long[] threadTimes() {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu = 0;
        long user = 0;
        List<String> top = new ArrayList<>();
        for (java.lang.management.ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long c = Math.max(0, mx.getThreadCpuTime(info.getThreadId()));
            cpu += c;
            user += Math.max(0, mx.getThreadUserTime(info.getThreadId()));
            long before = LAST.getOrDefault(info.getThreadName(), 0L);
            LAST.put(info.getThreadName(), c);
            if (c - before > 100_000_000L) {
                top.add(info.getThreadName() + "=" + (c - before) / 1_000_000 + "ms");
            }
        }
        if (System.getProperty("bench.threads") != null) {
            System.err.println("threads " + top);
        }
        return new long[] {cpu, user};
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    }

    static double percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    static void deleteRecursively(Path dir) throws java.io.IOException {
        if (Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
