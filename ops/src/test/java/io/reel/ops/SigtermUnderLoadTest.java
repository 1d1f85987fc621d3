package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.AppendResult;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.StoreAdmin;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
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
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code reel server} in a child process takes appends from 32 concurrent remote producers and gets SIGTERM
 * in the middle: it exits 0, and after a reopen every append it acknowledged is in the log, at its position,
 * with its event id.
 */
class SigtermUnderLoadTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void sigtermUnderLoadExitsZeroAndLosesNoAcknowledgedAppend() throws Exception {
        Path data = dir.resolve("data");
        Map<Long, UUID> acknowledged = new ConcurrentHashMap<>();
        AtomicInteger failures = new AtomicInteger();
        int exit;
        try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"))) {
            String[] tcp = server.listeners().get("rsocket-tcp").split(":");
            ClientSettings settings = ClientSettings.builder().host(tcp[0]).port(Integer.parseInt(tcp[1]))
                .requestTimeout(Duration.ofSeconds(10)).reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200)).build();
            try (ReelClient client = ReelClient.connect(settings).block(Duration.ofSeconds(30))) {
                var load = Flux.range(0, 32).flatMap(producer -> Flux.range(0, Integer.MAX_VALUE)
                    .concatMap(i -> {
                        UUID id = UUID.randomUUID();
                        EventData event = EventData.of(id, "Loaded", EventData.JSON, ("{\"p\":" + producer + ",\"i\":" + i + "}").getBytes(),
                            null);
                        return client.append("load-" + producer, ExpectedRevision.ANY, event)
                            .doOnNext((AppendResult r) -> acknowledged.put(r.firstPosition(), id));
                    })
                    .onErrorResume(e -> {
                        failures.incrementAndGet();
                        return Mono.empty();
                    }), 32)
                    .subscribe();
                await("appends were acknowledged before SIGTERM").atMost(Duration.ofSeconds(30))
                    .until(() -> acknowledged.size() >= 2_000);
                exit = server.terminate(Duration.ofSeconds(60));
                assertThat(server.stdoutLines()).last().isEqualTo("stopped");
                await("every producer saw the server go").atMost(Duration.ofSeconds(20)).until(() -> failures.get() >= 32);
                load.dispose();
            }
            assertThat(exit).as(server.stderr()).isZero();
        }
        assertThat(failures.get()).as("every producer saw the server go").isEqualTo(32);
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
