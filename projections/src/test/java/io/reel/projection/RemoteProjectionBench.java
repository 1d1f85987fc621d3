package io.reel.projection;

import io.reel.projection.bench.ProjectionBench;
import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import io.reel.transport.ReelServer;
import io.reel.transport.ServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Remote projection throughput: {@code event-types} catching up over RSocket through {@link ReelClient}, beside
 * the same projection embedded in the same run, printed one JSON object a line ({@link ProjectionBench.Result}).
 * The log is {@link ProjectionBench}'s (1000 events of 8 types per append); each figure is the second of two
 * runs from an empty checkpoint (the first warms up), with default projection settings and the client's
 * default {@code maxBatch} (256 records per payload) unless a third argument gives another.
 *
 * <p>Run: {@code java -cp <projections test classpath> io.reel.projection.RemoteProjectionBench [events] [payload-bytes] [max-batch]}.
 * Server, client and projection share one JVM and the machine's cores.
 */
public final class RemoteProjectionBench {
    private RemoteProjectionBench() {
    }

    public static void main(String[] args) throws Exception {
        long events = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        int payloadBytes = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int maxBatch = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        Path dir = Files.createTempDirectory("reel-remote-projection-bench");
        StoreSettings storeSettings = StoreSettings.builder().durability(Durability.batched(Duration.ofMillis(50))).build();
        try (EventStore store = EventStore.open(dir.resolve("data"), storeSettings);
             ReelServer server = ReelServer.start(store, ServerSettings.builder().tcpPort(0).webSocketPort(0).build())) {
            preload(store, events, payloadBytes);
            System.out.println(ProjectionBench.warmThenMeasure("projection-event-types", store, EventTypeCounts.projection()).toJson());
            try (ReelClient client = ReelClient.connect(ClientSettings.builder().port(server.tcpAddress().getPort()).maxBatch(maxBatch)
                .build()).block()) {
                ProjectionBench.measure("projection-event-types-remote", client, EventTypeCounts.projection(), dir.resolve("warm-up"));
                System.out.println(ProjectionBench.measure("projection-event-types-remote", client, EventTypeCounts.projection(),
                    dir.resolve("measured")).toJson());
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        System.exit(0);
    }

    private static void preload(EventStore store, long events, int payloadBytes) {
        byte[] payload = new byte[payloadBytes];
        List<EventData> batch = new ArrayList<>(1000);
        for (long written = 0; written < events; written += batch.size()) {
            batch.clear();
            for (int i = 0; i < 1000 && written + i < events; i++) {
                batch.add(EventData.of(UUID.randomUUID(), "Type" + ((written + i) % 8), EventData.OCTET_STREAM, payload, null));
            }
            store.append("bench-" + (written / 1000 % 100), ExpectedRevision.ANY, batch).block();
        }
    }
}
