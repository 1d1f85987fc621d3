package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stream browser's HTTP API on a real server runtime: streams by prefix, a stream newest first, the tail of $all,
 * and long text cut to what a table cell shows.
 */
@Timeout(60)
class StreamBrowserApiTest {
    @TempDir
    Path dir;

    @Test
    void streamsEventsAndTailAnswerAsThePageReadsThem() {
        try (ServerRuntime runtime = ServerRuntime.start(Configs.onFreePorts(dir.resolve("data"), Durability.batched(Duration.ofMillis(2)),
            4L << 20))) {
            EventStore store = runtime.store();
            store.append("order-1", ExpectedRevision.ANY, EventData.json("Placed", "{\"total\":12}")).block();
            store.append("order-1", ExpectedRevision.ANY, EventData.of("Blob", new byte[] {1, 2, (byte) 0xff})).block();
            store.append("task-1", ExpectedRevision.ANY, EventData.json("Scheduled", "{}")).block();
            String http = ServerRuntime.hostPort(runtime.httpAddress());

            List<?> streams = (List<?>) Json.parse(Http.get(http, "/api/streams?prefix=order-").body());
            assertThat(streams).singleElement().isEqualTo(Map.of("stream", "order-1", "revision", 1L, "last_position", 1L, "deleted", false));

            List<?> events = (List<?>) Json.parse(Http.get(http, "/api/events?stream=order-1").body());
            assertThat(events).hasSize(2);
            Map<?, ?> newest = (Map<?, ?>) events.get(0);
            assertThat(newest.get("revision")).isEqualTo(1L);
            assertThat(newest.get("size")).isEqualTo(3L);
            assertThat(newest.get("hex")).isEqualTo("01 02 ff");
            assertThat(((Map<?, ?>) events.get(1)).get("text")).isEqualTo("{\"total\":12}");

            List<?> last = (List<?>) Json.parse(Http.get(http, "/api/tail?limit=2").body());
            assertThat(last.stream().map(e -> (Object) ((Map<?, ?>) e).get("position")).toList()).containsExactly(1L, 2L);
            List<?> after = (List<?>) Json.parse(Http.get(http, "/api/tail?from=2").body());
            assertThat(after.stream().map(e -> (Object) ((Map<?, ?>) e).get("stream")).toList()).containsExactly("task-1");

            Http.Response bad = Http.get(http, "/api/tail?limit=0");
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.body()).startsWith("INVALID_ARGUMENT: limit 0 is out of range");
            assertThat(Http.get(http, "/api/events").status()).isEqualTo(400);
            assertThat(Http.get(http, "/assets/tabulator.min.js").status()).isEqualTo(200);
        }
    }

    /**
     * One keep-alive connection, as a dashboard's polls use it: a read answered from a reader thread, then two errors
     * answered at once. Reactor Netty's own handling stopped reading such a connection within a few dozen requests,
     * and the next request waited for ever.
     */
    @Test
    void aKeepAliveConnectionIsAnsweredRequestAfterRequest() {
        try (ServerRuntime runtime = ServerRuntime.start(Configs.onFreePorts(dir.resolve("data"), Durability.batched(Duration.ofMillis(2)),
            4L << 20))) {
            runtime.store().append("task-1", ExpectedRevision.ANY, EventData.json("Scheduled", "{}")).block();
            String http = ServerRuntime.hostPort(runtime.httpAddress());
            for (int i = 0; i < 300; i++) {
                assertThat(Http.get(http, "/api/tail?limit=2").status()).as("read %d", i).isEqualTo(200);
                assertThat(Http.get(http, "/api/tail?limit=0").status()).as("first error %d", i).isEqualTo(400);
                assertThat(Http.get(http, "/api/events").status()).as("second error %d", i).isEqualTo(400);
            }
        }
    }

    @Test
    void longTextIsCutAtFourKibOnACharacterBoundaryAndSaysSo() {
        try (ServerRuntime runtime = ServerRuntime.start(Configs.onFreePorts(dir.resolve("data"), Durability.batched(Duration.ofMillis(2)),
            4L << 20))) {
            EventStore store = runtime.store();
            // three-byte characters after a six-byte prefix: byte 4096 falls inside one, so the cut moves back to 4095
            String json = "{\"s\":\"" + "\u20ac".repeat(5000) + "\"}";
            int size = json.getBytes(StandardCharsets.UTF_8).length;
            store.append("big", ExpectedRevision.ANY, EventData.json("Large", json)).block();
            store.append("big", ExpectedRevision.ANY, EventData.json("Small", "{\"n\":1}")).block();
            String http = ServerRuntime.hostPort(runtime.httpAddress());

            List<?> events = (List<?>) Json.parse(Http.get(http, "/api/events?stream=big").body());
            Map<?, ?> small = (Map<?, ?>) events.get(0);
            assertThat(small.get("text")).isEqualTo("{\"n\":1}");
            assertThat(small.containsKey("truncated")).isFalse();
            Map<?, ?> large = (Map<?, ?>) events.get(1);
            assertThat(large.get("size")).isEqualTo((long) size);
            assertThat(large.get("truncated")).isEqualTo(true);
            String text = (String) large.get("text");
            assertThat(text.getBytes(StandardCharsets.UTF_8)).hasSize(StreamBrowser.TEXT_BYTES - 1);
            assertThat(json).startsWith(text);
            assertThat(text).endsWith("\u20ac");

            List<?> tail = (List<?>) Json.parse(Http.get(http, "/api/tail?limit=2").body());
            assertThat(((Map<?, ?>) tail.get(0)).get("text")).isEqualTo(text);
            assertThat(((Map<?, ?>) tail.get(0)).get("truncated")).isEqualTo(true);
        }
    }
}
