package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.Direction;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.ExpectedRevision;
import io.reel.store.StreamSummary;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/** The {@code streams.list} route: over ReelClient (protobuf) and in raw JSON, with request-n honoured. */
@Timeout(60)
class StreamsListTest {
    @TempDir
    Path dir;
    ServerFixture fixture;

    @BeforeEach
    void start() {
        fixture = new ServerFixture(dir.resolve("data"));
        for (int i = 0; i < 40; i++) {
            fixture.store.append("order-" + (100 + i), ExpectedRevision.ANY, EventData.json("Placed", "{}")).block(TIMEOUT);
        }
        fixture.store.append("task-1", ExpectedRevision.ANY, EventData.json("Scheduled", "{}")).block(TIMEOUT);
        fixture.store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).blockLast(TIMEOUT);
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    @Test
    void theClientListsByPrefixAndPagesByName() {
        try (ReelClient client = ReelClient.connect(ClientSettings.builder().port(fixture.server.tcpAddress().getPort()).build())
            .block(TIMEOUT)) {
            List<StreamSummary> orders = client.listStreams("order-", "", 0).collectList().block(TIMEOUT);
            assertThat(orders).hasSize(40).extracting(StreamSummary::stream).isSorted().startsWith("order-100");
            assertThat(orders.get(0)).isEqualTo(new StreamSummary("order-100", 0, 0, false));
            assertThat(client.listStreams("", "order-138", 0).collectList().block(TIMEOUT)).extracting(StreamSummary::stream)
                .containsExactly("order-139", "task-1");
            assertThat(client.listStreams("", "", 2).collectList().block(TIMEOUT)).hasSize(2);
        }
    }

    @Test
    void requestNIsHonouredEndToEnd() {
        try (RawClient json = RawClient.connect(fixture.server, RawClient.Kind.TCP, WireContractTest.JSON)) {
            StepVerifier.create(json.stream("streams.list", "{\"prefix\":\"order-\"}".getBytes(StandardCharsets.UTF_8)).map(RawClient::text), 0)
                .thenRequest(2)
                .assertNext(t -> assertThat(t).isEqualTo("{\"stream\":\"order-100\",\"revision\":\"0\",\"lastPosition\":\"0\",\"deleted\":false}"))
                .assertNext(t -> assertThat(t).contains("\"stream\":\"order-101\""))
                .expectNoEvent(Duration.ofMillis(200))
                .thenRequest(Long.MAX_VALUE)
                .expectNextCount(38)
                .verifyComplete();
        }
    }
}
