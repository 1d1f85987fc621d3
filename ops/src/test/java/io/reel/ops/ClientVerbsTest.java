package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client verbs ({@code append}, {@code read}, {@code tail}) end to end against {@code reel server} running
 * as a child process, over TCP and WebSocket, and the server's meters after that traffic.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(90)
class ClientVerbsTest {
    private ServerProcess server;
    private String tcp;
    private String ws;

    @BeforeAll
    void start(@TempDir Path dir) {
        server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"));
        assertThat(server.listeners().keySet()).containsExactly("rsocket-tcp", "rsocket-ws", "http");
        tcp = server.listeners().get("rsocket-tcp");
        ws = server.listeners().get("rsocket-ws");
    }

    @AfterAll
    void stop() {
        if (server != null) {
            assertThat(server.terminate(Duration.ofSeconds(60))).isZero();
            server.close();
        }
    }

    @Test
    @Order(1)
    void appendReadAndTailAsAUserWould() throws Exception {
        long subscriptionsBefore = subscriptions("");
        CompletableFuture<Cli.Result> tail = CompletableFuture.supplyAsync(() -> Cli.run("tail", "--server", tcp, "--from", "start",
            "--count", "4"));
        // subscribed before the appends, so it catches up at once and says so; subscribed after the fourth, it would end
        // with the fourth event, before its caught-up message
        await().atMost(Duration.ofSeconds(20)).until(() -> subscriptions("") > subscriptionsBefore);

        Cli.Result first = Cli.run("append", "--server", tcp, "order-42", "--type", "OrderPlaced", "--data", "{\"total\": 12}");
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.out()).isEqualTo("appended 1 event(s) to order-42 at position 0; the stream is at revision 0" + System.lineSeparator());

        Cli.Result lines = withStdin("{\"n\":1}\n\n{\"n\":2}\n", () -> Cli.run("append", "--server", ws, "--ws", "ticks", "--type", "Ticked",
            "--expected", "no-stream"));
        assertThat(lines.exitCode()).as(lines.toString()).isZero();
        assertThat(lines.out()).contains("appended 2 event(s) to ticks at positions 1..2; the stream is at revision 1");

        Cli.Result conflict = Cli.run("append", "--server", tcp, "ticks", "--type", "Ticked", "--data", "{}", "--expected", "no-stream");
        assertThat(conflict.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(conflict.err()).startsWith("error: WRONG_EXPECTED_VERSION: ");

        Cli.Result notJson = Cli.run("append", "--server", tcp, "ticks", "--type", "Ticked", "--data", "{oops");
        assertThat(notJson.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(notJson.err()).startsWith("error: INVALID_ARGUMENT: --data is not valid JSON");

        Cli.Result json = Cli.run("append", "--server", tcp, "order-42", "--type", "OrderShipped", "--data", "{}", "--expected", "0", "--json");
        assertThat(json.exitCode()).as(json.toString()).isZero();
        assertThat(HttpEndpointTest.object(json.out().trim())).containsEntry("first_position", 3L).containsEntry("next_expected_revision", 1L);

        Cli.Result all = Cli.run("read", "--server", tcp);
        assertThat(all.exitCode()).as(all.toString()).isZero();
        assertThat(all.out().lines().toList()).containsExactly(
            "0        order-42@0  OrderPlaced  {\"total\": 12}",
            "1        ticks@0  Ticked  {\"n\":1}",
            "2        ticks@1  Ticked  {\"n\":2}",
            "3        order-42@1  OrderShipped  {}");

        Cli.Result last = Cli.run("read", "--server", ws, "--ws", "order-42", "--backwards", "--count", "1", "--json");
        assertThat(last.exitCode()).as(last.toString()).isZero();
        Map<String, Object> event = HttpEndpointTest.object(last.out().trim());
        assertThat(event).containsEntry("position", 3L).containsEntry("stream", "order-42").containsEntry("type", "OrderShipped");
        assertThat(event.get("data")).isEqualTo(Map.of());

        Cli.Result tailed = tail.get();
        assertThat(tailed.exitCode()).as(tailed.toString()).isZero();
        assertThat(tailed.out().lines().toList()).isEqualTo(all.out().lines().toList());
        assertThat(tailed.err()).contains("caught up at position");
    }

    @Test
    @Order(2)
    void tailFollowsLiveAppendsWithAFilter() throws Exception {
        CompletableFuture<Cli.Result> tail = CompletableFuture.supplyAsync(() -> Cli.run("tail", "--server", tcp, "--stream-prefix", "live-",
            "--type", "Wanted", "--count", "2", "--json"));
        await().atMost(Duration.ofSeconds(20)).until(() -> liveSubscriptions() > 0);
        for (String type : List.of("Unwanted", "Wanted", "Wanted")) {
            Cli.Result r = Cli.run("append", "--server", tcp, "live-1", "--type", type, "--data", "{}");
            assertThat(r.exitCode()).as(r.toString()).isZero();
        }
        assertThat(Cli.run("append", "--server", tcp, "other", "--type", "Wanted", "--data", "{}").exitCode()).isZero();
        Cli.Result tailed = tail.get();
        assertThat(tailed.exitCode()).as(tailed.toString()).isZero();
        assertThat(tailed.out().lines().map(HttpEndpointTest::object).map(e -> e.get("stream") + "/" + e.get("type")).toList())
            .containsExactly("live-1/Wanted", "live-1/Wanted");
    }

    @Test
    @Order(3)
    void refusalsSayWhatToDo() {
        Cli.Result unreachable = Cli.run("read", "--server", "127.0.0.1:1");
        assertThat(unreachable.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(unreachable.err()).startsWith("error: IO_ERROR: ");
        Cli.Result timedOut = Cli.run("append", "--server", "127.0.0.1:1", "--timeout", "1", "s", "--type", "T", "--data", "{}");
        assertThat(timedOut.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(timedOut.err()).startsWith("error: IO_ERROR: no answer from 127.0.0.1:1 within 1 s (--timeout)")
            .contains("raise --timeout");
        Cli.Result badAddress = Cli.run("read", "--server", "localhost");
        assertThat(badAddress.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(badAddress.err()).contains("HOST:PORT");
        Cli.Result tooMany = withStdin("{}\n".repeat(AppendCommand.MAX_LINES + 1), () -> Cli.run("append", "--server", tcp, "x", "--type", "T"));
        assertThat(tooMany.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(tooMany.err()).startsWith("error: TOO_LARGE: ").contains("split it");
        Cli.Result noType = Cli.run("append", "--server", tcp, "x", "--data", "{}");
        assertThat(noType.exitCode()).isEqualTo(ReelCommand.ExitCodes.USAGE);
        assertThat(noType.err()).contains("--type");
    }

    @Test
    @Order(4)
    void metersOfTheStoreTransportAndProjectionsAreServedAfterTraffic() {
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            String metrics = Http.get(server.http(), "/metrics").body();
            assertThat(HttpEndpointTest.metricNames(metrics)).contains("reel_append_events_total", "reel_append_latency_seconds_bucket",
                "reel_fsync_latency_seconds_bucket", "reel_batch_size", "reel_head_position", "reel_segments", "reel_log_bytes",
                "reel_recovery_seconds", "reel_connections", "reel_connections_accepted_total", "reel_transport_rejected_total",
                "reel_rejected_total", "reel_projection_lag_events", "reel_projection_lag_seconds", "reel_snapshots_stored");
            assertThat(HttpEndpointTest.sample(metrics, "reel_append_events_total")).isGreaterThanOrEqualTo(8);
            assertThat(HttpEndpointTest.sample(metrics, "reel_connections_accepted_total")).isGreaterThanOrEqualTo(8);
            assertThat(HttpEndpointTest.sample(metrics, "reel_projection_lag_events{name=\"event-types\"}")).isZero();
        });
        Map<String, Object> stats = HttpEndpointTest.object(Http.get(server.http(), "/api/stats").body());
        assertThat((Long) stats.get("connections")).isNotNegative();
    }

    private long liveSubscriptions() {
        return subscriptions("live-");
    }

    /** The server's subscriptions whose detail (their filter) contains {@code detail}. */
    private long subscriptions(String detail) {
        Map<String, Object> stats = HttpEndpointTest.object(Http.get(server.http(), "/api/stats").body());
        return ((List<?>) stats.get("subscriptions")).stream().map(Map.class::cast).filter(s -> String.valueOf(s.get("detail")).contains(detail))
            .count();
    }

    private static Cli.Result withStdin(String text, java.util.function.Supplier<Cli.Result> run) {
        InputStream original = System.in;
        System.setIn(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
        try {
            return run.get();
        } finally {
            System.setIn(original);
        }
    }

    @Test
    @Order(10)
    void streamsListsWhatWasWrittenInNameOrder() {
        for (String stream : List.of("zeta-1", "alpha-2", "alpha-1")) {
            Cli.Result appended = Cli.run("append", "--server", tcp, stream, "--type", "Created", "--data", "{}");
            assertThat(appended.exitCode()).as(appended.toString()).isZero();
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            Cli.Result alpha = Cli.run("streams", "--server", tcp, "--prefix", "alpha-");
            assertThat(alpha.exitCode()).as(alpha.toString()).isZero();
            assertThat(alpha.out().lines().map(l -> l.split("\\s+")[0]).toList()).containsExactly("alpha-1", "alpha-2");
        });
        Cli.Result json = Cli.run("streams", "--server", ws, "--ws", "--prefix", "zeta-", "--json");
        assertThat(json.out().trim()).matches("\\{\"stream\":\"zeta-1\",\"revision\":0,\"last_position\":\\d+,\"deleted\":false}");
        Cli.Result all = Cli.run("streams", "--server", tcp, "--count", "2");
        assertThat(all.out().lines()).hasSize(2);
    }
}
