package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.StoreAdmin;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code reel server} in a child JVM takes appends from 64 concurrent producers on one {@link ReelClient}, which
 * coalesces them into {@code append.batch} requests (the server's {@code reel.transport.append.batch} meter shows
 * requests of several appends), and is killed with SIGKILL while they go on: after a reopen, every append the
 * server acknowledged is in the log, at its position, with its event id.
 */
class KillUnderLoadTest {
    static final int PRODUCERS = 64;

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void sigkillMidBatchLosesNoAcknowledgedAppend() {
        Path data = dir.resolve("data");
        Map<Long, UUID> acknowledged = new ConcurrentHashMap<>();
        AtomicInteger stopped = new AtomicInteger();
        try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"))) {
            String[] tcp = server.listeners().get("rsocket-tcp").split(":");
            ClientSettings settings = ClientSettings.builder().host(tcp[0]).port(Integer.parseInt(tcp[1]))
                .requestTimeout(Duration.ofSeconds(10)).reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200)).build();
            // a first answer from a JVM that just started on a loaded machine can take longer than the load's 10 s timeout; and a
            // producer stops at its first failure, so one stall (a force, a GC) must not fail the load before the kill
            ReelClient.connect(ClientSettings.builder().host(tcp[0]).port(Integer.parseInt(tcp[1])).requestTimeout(Duration.ofSeconds(60))
                .build()).block(Duration.ofSeconds(90)).close();
            try (ReelClient client = ReelClient.connect(settings).block(Duration.ofSeconds(30))) {
                Disposable load = Flux.range(0, PRODUCERS).flatMap(producer -> Flux.range(0, Integer.MAX_VALUE)
                    .concatMap(i -> {
                        UUID id = UUID.randomUUID();
                        EventData event = EventData.of(id, "Loaded", EventData.JSON,
                            ("{\"p\":" + producer + ",\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8), null);
                        return client.append("load-" + producer, ExpectedRevision.ANY, event)
                            .doOnNext(r -> acknowledged.put(r.firstPosition(), id));
                    })
                    .onErrorResume(e -> {
                        stopped.incrementAndGet();
                        return Mono.empty();
                    }), PRODUCERS)
                    .subscribe();
                await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= 3_000);
                // the load goes through append.batch, several appends a request, and is still running at the kill
                String metrics = Http.get(server.http(), "/metrics").body();
                double requests = HttpEndpointTest.sample(metrics, "reel_transport_append_batch_appends_count");
                double appends = HttpEndpointTest.sample(metrics, "reel_transport_append_batch_appends_sum");
                assertThat(requests).as("append.batch requests").isPositive();
                assertThat(appends).as("appends in append.batch requests").isGreaterThan(requests);
                int before = acknowledged.size();
                await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() > before);
                server.kill();
                await().atMost(Duration.ofSeconds(30)).until(() -> stopped.get() == PRODUCERS);
                load.dispose();
            }
        }
        assertThat(StoreAdmin.verify(data).problems()).isEmpty();
        try (EventStore reopened = EventStore.open(data)) {
            List<RecordedEvent> all = Stores.readAll(reopened);
            assertThat(all.size()).isGreaterThanOrEqualTo(acknowledged.size());
            for (Map.Entry<Long, UUID> ack : acknowledged.entrySet()) {
                RecordedEvent stored = all.get((int) (long) ack.getKey());
                assertThat(stored.eventId()).as("acknowledged position %d", ack.getKey()).isEqualTo(ack.getValue());
            }
        }
    }
}
