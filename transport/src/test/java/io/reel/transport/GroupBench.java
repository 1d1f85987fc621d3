package io.reel.transport;

import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.groups.GroupOptions;
import io.reel.store.StoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Brief loopback measurements of persistent subscription groups over RSocket, printed one JSON object a line:
 *
 * <ul>
 *   <li>{@code group-remote}: a group over a preloaded log, drained by 1, 2 and 4 remote consumers (one
 *       {@link ReelClient} connection each, each acking every delivery as it arrives); events/s from the joins
 *       to the last event received. Each consumer may hold {@code maxInFlight} unacknowledged.</li>
 *   <li>{@code group-redelivery}: a consumer holding 10 deliveries dies (its TCP connection is reset, as the
 *       kernel does for a killed process); the time from the reset to another, idle, consumer receiving the first
 *       and the last of those 10, over several trials (p50, max).</li>
 * </ul>
 *
 * Run: {@code java -cp <test classpath> io.reel.transport.GroupBench [events] [streams] [maxInFlight] [trials]}.
 * Server and clients share one JVM and the machine's cores.
 */
public final class GroupBench {
    private GroupBench() {
    }

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int streams = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int maxInFlight = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int trials = args.length > 3 ? Integer.parseInt(args[3]) : 15;
        Path dir = Files.createTempDirectory("reel-group-bench");
        StoreSettings storeSettings = StoreSettings.builder().durability(Durability.batched(Duration.ofMillis(50))).build();
        try (EventStore store = EventStore.open(dir, storeSettings);
             ReelServer server = ReelServer.start(store, ServerSettings.builder().tcpPort(0).webSocketPort(0).build())) {
            preload(store, events, streams);
            throughput(store, server, events, 1, maxInFlight);   // warm-up, not printed
            System.out.println(embedded(store, events, maxInFlight).toJson());
            for (int consumers : new int[] {1, 2, 4}) {
                System.out.println(throughput(store, server, events, consumers, maxInFlight).toJson());
            }
            System.out.println(redelivery(store, server, trials).toJson());
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.exit(0);
    }

    /**
     * Single-event appends, 256 at a time (group commit), to {@code streams} streams in turn: a group hands out
     * one event per stream at a time, so the streams must interleave over the log for consumers to run in parallel.
     */
    static void preload(EventStore store, int events, int streams) {
        byte[] payload = new byte[100];
        Flux.range(0, events).flatMap(i -> store.append("bench-" + (i % streams), ExpectedRevision.ANY,
            EventData.of(UUID.randomUUID(), "Happened", EventData.OCTET_STREAM, payload, null)), 256).blockLast();
    }

    // ------------------------------------------------------------------------------------- throughput

    record Throughput(String workload, int consumers, int maxInFlight, long events, double seconds) {
        String toJson() {
            return String.format(Locale.ROOT, "{\"workload\": \"%s\", \"consumers\": %d, \"max_in_flight\": %d, "
                + "\"events\": %d, \"seconds\": %.3f, \"events_per_sec\": %.0f}", workload, consumers, maxInFlight, events, seconds,
                events / seconds);
        }
    }

    /** The baseline: one embedded consumer, acking every delivery as it arrives. */
    static Throughput embedded(EventStore store, int events, int maxInFlight) throws Exception {
        String name = "embedded-" + UUID.randomUUID();
        store.groups().create(GroupOptions.named(name).fromPosition(store.headPosition() - events).maxInFlight(maxInFlight)).block();
        AtomicLong received = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        long started = System.nanoTime();
        Disposable joined = store.groups().join(name).subscribe(d -> {
            d.ack();
            if (received.incrementAndGet() == events) {
                done.countDown();
            }
        });
        try {
            if (!done.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the consumer received only " + received.get() + " of " + events);
            }
            return new Throughput("group-embedded", 1, maxInFlight, events, (System.nanoTime() - started) / 1e9);
        } finally {
            joined.dispose();
            store.groups().delete(name).block();
        }
    }

    /** Drains the last {@code events} events of the log through a fresh group. */
    static Throughput throughput(EventStore store, ReelServer server, int events, int consumers, int maxInFlight) throws Exception {
        String name = "throughput-" + consumers + "-" + UUID.randomUUID();
        long from = store.headPosition() - events;
        store.groups().create(GroupOptions.named(name).fromPosition(from).maxInFlight(maxInFlight)).block();
        List<ReelClient> clients = new ArrayList<>();
        List<Disposable> joined = new ArrayList<>();
        AtomicLong received = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        try {
            for (int c = 0; c < consumers; c++) {
                clients.add(ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort()).build()).block());
            }
            long started = System.nanoTime();
            for (ReelClient client : clients) {
                joined.add(client.groups().join(name, maxInFlight).subscribe(d -> {
                    d.ack();
                    if (received.incrementAndGet() == events) {
                        done.countDown();
                    }
                }));
            }
            if (!done.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the consumers received only " + received.get() + " of " + events);
            }
            return new Throughput("group-remote", consumers, maxInFlight, events, (System.nanoTime() - started) / 1e9);
        } finally {
            joined.forEach(Disposable::dispose);
            clients.forEach(ReelClient::close);
            store.groups().delete(name).block();
        }
    }

    // ------------------------------------------------------------------------------------- redelivery

    record Redelivery(int trials, double firstP50Ms, double lastP50Ms, double lastMaxMs) {
        String toJson() {
            return String.format(Locale.ROOT, "{\"workload\": \"group-redelivery\", \"trials\": %d, \"first_p50_ms\": %.2f, "
                + "\"last_p50_ms\": %.2f, \"last_max_ms\": %.2f}", trials, firstP50Ms, lastP50Ms, lastMaxMs);
        }
    }

    static Redelivery redelivery(EventStore store, ReelServer server, int trials) throws Exception {
        List<Double> first = new ArrayList<>();
        List<Double> last = new ArrayList<>();
        for (int t = 0; t < trials; t++) {
            double[] trial = redeliveryTrial(store, server, t);
            first.add(trial[0]);
            last.add(trial[1]);
        }
        Collections.sort(first);
        Collections.sort(last);
        return new Redelivery(trials, first.get(trials / 2), last.get(trials / 2), last.get(trials - 1));
    }

    /** One trial: the ms from the reset to the survivor receiving the first and the last held event. */
    private static double[] redeliveryTrial(EventStore store, ReelServer server, int trial) throws Exception {
        String name = "redelivery-" + trial;
        int held = 10;
        store.groups().create(GroupOptions.named(name).fromEnd()).block();
        for (int i = 0; i < held; i++) {
            store.append(name + "-" + i, ExpectedRevision.ANY, EventData.of("Held", new byte[100])).block();
        }
        try (SeverableProxy proxy = new SeverableProxy(server.tcpAddress());
             ReelClient victimClient = ReelClient.connect(ClientSettings.builder().port(proxy.port()).build()).block();
             ReelClient survivorClient = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort()).build()).block()) {
            CountDownLatch holding = new CountDownLatch(held);
            Disposable victim = victimClient.groups().join(name, held).subscribe(d -> holding.countDown());
            if (!holding.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the victim did not receive its deliveries");
            }
            AtomicLong firstAt = new AtomicLong();
            CountDownLatch redelivered = new CountDownLatch(held);
            Disposable survivor = survivorClient.groups().join(name, 64).subscribe(d -> {
                firstAt.compareAndSet(0, System.nanoTime());
                d.ack();
                redelivered.countDown();
            });
            while (store.groups().list().stream().noneMatch(g -> g.name().equals(name) && g.consumers().size() == 2)) {
                Thread.sleep(5);
            }
            long killed = System.nanoTime();
            proxy.sever();
            if (!redelivered.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the victim's deliveries did not reach the survivor");
            }
            long lastAt = System.nanoTime();
            victim.dispose();
            survivor.dispose();
            while (store.groups().list().stream().anyMatch(g -> g.name().equals(name) && !g.consumers().isEmpty())) {
                Thread.sleep(5);
            }
            return new double[] {(firstAt.get() - killed) / 1e6, (lastAt - killed) / 1e6};
        } finally {
            store.groups().delete(name).block();
        }
    }
}
