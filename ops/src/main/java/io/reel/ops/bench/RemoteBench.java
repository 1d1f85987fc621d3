package io.reel.ops.bench;

import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import io.reel.store.groups.GroupOptions;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import io.reel.transport.ReelServer;
import io.reel.transport.ServerSettings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * The {@code group} workload of {@code reel bench}: a consumer group drained by remote consumers over RSocket on
 * loopback, beside one embedded consumer ({@code append --remote} is {@link RemoteAppendBench}). Server and clients share this JVM and the machine's cores. Public API only.
 */
final class RemoteBench {
    private static final byte[] PAYLOAD = new byte[100];

    private RemoteBench() {
    }

    /**
     * A group over the last {@code events} events of a log written as single events over {@code streams} streams
     * (a group hands out one event per stream at a time, so streams must interleave for consumers to run in
     * parallel), drained once by one embedded consumer (the baseline) and once by {@code consumers} remote ones,
     * one connection each, each acking every delivery as it arrives.
     */
    static BenchResult group(Path dir, StoreSettings settings, long events, int streams, int consumers, int maxInFlight) {
        try (EventStore store = EventStore.open(dir, settings); ReelServer server = ReelServer.start(store, serverSettings())) {
            Flux.range(0, (int) events).flatMap(i -> store.append("bench-" + (i % streams), ExpectedRevision.ANY,
                EventData.of(UUID.randomUUID(), "Happened", EventData.OCTET_STREAM, PAYLOAD, null)), 256).blockLast();
            drain(store, server, events, 1, maxInFlight, false); // warm-up, not reported
            double embedded = drain(store, server, events, 1, maxInFlight, true);
            double remote = drain(store, server, events, consumers, maxInFlight, false);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("consumers", consumers);
            details.put("max_in_flight", maxInFlight);
            details.put("streams", streams);
            details.put("embedded_events_per_sec", events / embedded);
            return new BenchResult("group-remote", events, remote, events / remote, events * PAYLOAD.length / remote / 1e6, null, null,
                null, null, null, details);
        }
    }

    /** Seconds from the joins until {@code consumers} consumers of a fresh group have received the last {@code events} events. */
    private static double drain(EventStore store, ReelServer server, long events, int consumers, int maxInFlight, boolean embedded) {
        String name = "bench-" + UUID.randomUUID();
        store.groups().create(GroupOptions.named(name).fromPosition(store.headPosition() - events).maxInFlight(maxInFlight)).block();
        AtomicLong received = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        Runnable onDelivery = () -> {
            if (received.incrementAndGet() == events) {
                done.countDown();
            }
        };
        ReelClient[] clients = new ReelClient[embedded ? 0 : consumers];
        Disposable[] joined = new Disposable[consumers];
        try {
            for (int c = 0; c < clients.length; c++) {
                clients[c] = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort()).build()).block();
            }
            long started = System.nanoTime();
            for (int c = 0; c < consumers; c++) {
                joined[c] = embedded
                    ? store.groups().join(name).subscribe(d -> {
                        d.ack();
                        onDelivery.run();
                    })
                    : clients[c].groups().join(name, maxInFlight).subscribe(d -> {
                        d.ack();
                        onDelivery.run();
                    });
            }
            if (!done.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the consumers received only " + received.get() + " of " + events);
            }
            return (System.nanoTime() - started) / 1e9;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            for (Disposable d : joined) {
                if (d != null) {
                    d.dispose();
                }
            }
            for (ReelClient client : clients) {
                if (client != null) {
                    client.close();
                }
            }
            store.groups().delete(name).block();
        }
    }

    static ServerSettings serverSettings() {
        return ServerSettings.builder().tcpPort(0).webSocketPort(0).build();
    }
}
