package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import io.reel.store.WrongExpectedVersionException;
import io.reel.store.groups.Delivery;
import io.reel.store.groups.GroupOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

/**
 * The HTTP endpoint of a real server runtime (store, sampler, HTTP on port 0) after real traffic: appends,
 * a rejected append, a live subscription and a named one that stalls after one event.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class HttpEndpointTest {
    private ServerRuntime runtime;
    private String http;
    private final List<BaseSubscriber<SubscriptionMessage>> subscribers = new ArrayList<>();
    private BaseSubscriber<Delivery> groupConsumer;

    @BeforeAll
    void startWithTraffic(@TempDir Path dir) {
        runtime = ServerRuntime.start(Configs.onFreePorts(dir.resolve("data"), Durability.fsync(), 4L << 20));
        http = ServerRuntime.hostPort(runtime.httpAddress());
        EventStore store = runtime.store();
        subscribers.add(subscribe(store, SubscribeOptions.fromEnd(), Long.MAX_VALUE));
        subscribers.add(subscribe(store, SubscribeOptions.fromStart().name("slow-reader"), 1));
        store.groups().create(GroupOptions.named("billing").fromStart()).block(Duration.ofSeconds(10));
        BaseSubscriber<Delivery> consumer = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                subscription.request(5);
            }

            @Override
            protected void hookOnNext(Delivery delivery) {
                delivery.ack();
            }
        };
        store.groups().join("billing").subscribe(consumer);
        groupConsumer = consumer;
        Stores.append(store, "order-1", 500, 50);
        Stores.append(store, "order-2", 1, 1);
        try {
            store.append("order-2", ExpectedRevision.NO_STREAM, EventData.json("Ticked", "{}")).block(Duration.ofSeconds(10));
        } catch (WrongExpectedVersionException expected) {
            // counted as reel.rejected{code=WRONG_EXPECTED_VERSION}
        }
    }

    private static BaseSubscriber<SubscriptionMessage> subscribe(EventStore store, SubscribeOptions options, long demand) {
        BaseSubscriber<SubscriptionMessage> s = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                subscription.request(demand);
            }
        };
        store.subscribe(options).subscribe(s);
        return s;
    }

    @AfterAll
    void stop() {
        subscribers.forEach(BaseSubscriber::dispose);
        if (groupConsumer != null) {
            groupConsumer.dispose();
        }
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void healthSaysOkWithWriterStateDiskAndHead() {
        Http.Response r = Http.get(http, "/health");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).startsWith("application/json");
        Map<?, ?> health = (Map<?, ?>) Json.parse(r.body());
        assertThat(health.get("status")).isEqualTo("ok");
        assertThat(health.get("writer")).isEqualTo("ok");
        assertThat((Long) health.get("head")).isEqualTo(runtime.store().headPosition());
        assertThat((Long) health.get("disk_free_bytes")).isPositive();
    }

    @Test
    void statsShowHeadRateAndTheLagOfEverySubscription() {
        long head = runtime.store().headPosition();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            Map<String, Object> stats = object(Http.get(http, "/api/stats").body());
            assertThat((Long) stats.get("head")).isEqualTo(head);
            assertThat((Long) stats.get("segments")).isPositive();
            assertThat((Long) stats.get("bytes")).isPositive();
            assertThat(stats.get("writer_state")).isEqualTo("ok");
            assertThat(stats).containsKeys("append_rate", "groups", "projections", "subscriptions");
            List<?> subscriptions = (List<?>) stats.get("subscriptions");
            Map<?, ?> slow = subscriptions.stream().map(Map.class::cast).filter(s -> "slow-reader".equals(s.get("name"))).findFirst().orElseThrow();
            assertThat((Long) slow.get("lag_events")).isEqualTo(head - (Long) slow.get("position")).isGreaterThan(400);
            assertThat(subscriptions.stream().map(Map.class::cast).anyMatch(s -> "live".equals(s.get("status")) && (Long) s.get("lag_events") == 0))
                .as("the live subscription has caught up").isTrue();
            Map<?, ?> billing = (Map<?, ?>) ((List<?>) stats.get("groups")).get(0);
            assertThat(billing.get("name")).isEqualTo("billing");
            assertThat(billing.get("status")).isEqualTo("1 consumer");
            assertThat((Long) billing.get("lag_events")).isEqualTo(head - (Long) billing.get("position")).isGreaterThan(400);
            Map<?, ?> eventTypes = (Map<?, ?>) ((List<?>) stats.get("projections")).get(0);
            assertThat(eventTypes.get("name")).isEqualTo("event-types");
            assertThat(eventTypes.get("status")).isEqualTo("running");
            assertThat(eventTypes.get("position")).isEqualTo(head);
            assertThat(eventTypes.get("lag_events")).isEqualTo(0L);
        });
        List<?> history = (List<?>) Json.parse(Http.get(http, "/api/history").body());
        assertThat(history).isNotEmpty();
        assertThat(((Map<?, ?>) history.get(history.size() - 1)).get("time_millis")).isInstanceOf(Long.class);
    }

    @Test
    void theServerRunsTheBuiltInEventTypesProjection() {
        long head = runtime.store().headPosition();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            var state = runtime.projections().state("event-types").block(Duration.ofSeconds(10));
            assertThat(state.position()).isEqualTo(head);
            Map<String, Object> json = object(new String(state.state(), java.nio.charset.StandardCharsets.UTF_8));
            long ticked = Stores.readAll(runtime.store()).stream().filter(e -> e.position() < state.position() && e.type().equals("Ticked")).count();
            assertThat(ticked).isGreaterThanOrEqualTo(501);
            assertThat(json.get("counts")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.map(String.class, Object.class)).containsEntry("Ticked", ticked);
        });
    }

    @Test
    void appendRateFollowsTraffic() {
        EventStore store = runtime.store();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            Stores.append(store, "rate", 50, 10);
            Map<?, ?> stats = (Map<?, ?>) Json.parse(Http.get(http, "/api/stats").body());
            assertThat(((Number) stats.get("append_rate")).doubleValue()).isPositive();
        });
    }

    /** Every meter DESIGN.md "Ops" names that the store and the server runtime provide, present after traffic. */
    static final List<String> DESIGN_METERS = List.of(
        "reel_append_events_total", "reel_append_bytes_total",
        "reel_append_latency_seconds_bucket", "reel_append_latency_seconds_count", "reel_append_latency_seconds_max",
        "reel_fsync_latency_seconds_bucket", "reel_batch_size", "reel_head_position", "reel_segments", "reel_log_bytes",
        "reel_subscription_lag_events", "reel_subscription_lag_seconds", "reel_snapshots_stored",
        "reel_recovery_seconds", "reel_recovery_replayed_events", "reel_recovery_truncated_bytes_total",
        "reel_group_lag_events", "reel_group_lag_seconds", "reel_group_in_flight", "reel_group_parked",
        "reel_projection_lag_events", "reel_projection_lag_seconds", "reel_projection_position", "reel_projection_events_total",
        "reel_rejected_total", "reel_connections", "reel_transport_rejected_total", "reel_disk_free_bytes", "reel_writer_stopped");

    @Test
    void metricsHaveEveryDesignMeterAfterTraffic() {
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            Http.Response r = Http.get(http, "/metrics");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.contentType()).startsWith("text/plain");
            Set<String> names = metricNames(r.body());
            assertThat(names).containsAll(DESIGN_METERS);
            assertThat(r.body()).contains("reel_subscription_lag_events{name=\"slow-reader\"}")
                .contains("reel_group_lag_events{group=\"billing\"}")
                .contains("reel_projection_lag_events{name=\"event-types\"}");
            assertThat(sample(r.body(), "reel_rejected_total{code=\"WRONG_EXPECTED_VERSION\"}")).isGreaterThanOrEqualTo(1);
            assertThat(sample(r.body(), "reel_append_events_total")).isGreaterThanOrEqualTo(501);
            assertThat(sample(r.body(), "reel_head_position")).isEqualTo(runtime.store().headPosition());
        });
    }

    @Test
    void grafanaDashboardParsesAndUsesOnlyMetersThatExist() throws Exception {
        Path file = Path.of("grafana", "reel-dashboard.json");
        assertThat(file).as("run from the ops module directory").exists();
        Map<?, ?> dashboard = (Map<?, ?>) Json.parse(Files.readString(file));
        List<?> panels = (List<?>) dashboard.get("panels");
        assertThat(panels).isNotEmpty();
        Set<String> referenced = new TreeSet<>();
        for (Object p : panels) {
            Map<?, ?> panel = (Map<?, ?>) p;
            assertThat(panel.get("title")).isInstanceOf(String.class);
            for (Object t : (List<?>) panel.get("targets")) {
                Matcher m = Pattern.compile("\\b((?:reel|jvm)_[a-z0-9_]+)").matcher((String) ((Map<?, ?>) t).get("expr"));
                while (m.find()) {
                    referenced.add(m.group(1));
                }
            }
        }
        assertThat(referenced).contains("reel_append_events_total", "reel_subscription_lag_events");
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
            assertThat(metricNames(Http.get(http, "/metrics").body())).containsAll(referenced));
    }

    @Test
    void dashboardAndUplotAreServedFromTheJar() {
        Http.Response page = Http.get(http, "/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.contentType()).startsWith("text/html");
        assertThat(page.body()).contains("/assets/uPlot.iife.min.js").contains("/api/stats").doesNotContain("https://");
        Http.Response js = Http.get(http, "/assets/uPlot.iife.min.js");
        assertThat(js.status()).isEqualTo(200);
        assertThat(js.body()).contains("uPlot");
        assertThat(Http.get(http, "/assets/uPlot.min.css").status()).isEqualTo(200);
        assertThat(Http.get(http, "/assets/nothing.js").status()).isEqualTo(404);
    }

    @Test
    void apiErrorsAnswerTheStatusOfTheirCodeWithTheirSentence() {
        Http.Response badEncoding = Http.raw(http, "/api/events?stream=%zz");
        assertThat(badEncoding.status()).isEqualTo(400);
        assertThat(badEncoding.body()).startsWith("INVALID_ARGUMENT: the query is not valid percent-encoding").contains("%25");
        Http.Response unterminated = Http.raw(http, "/api/streams?prefix=order%");
        assertThat(unterminated.status()).isEqualTo(400);
        assertThat(unterminated.body()).startsWith("INVALID_ARGUMENT: ");

        EventStore store = runtime.store();
        store.append("gone", ExpectedRevision.ANY, EventData.json("Deleted", "{}")).block(Duration.ofSeconds(10));
        store.deleteStream("gone", ExpectedRevision.ANY, true).block(Duration.ofSeconds(10));
        Http.Response deleted = Http.get(http, "/api/events?stream=gone");
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(410);
        assertThat(deleted.body()).startsWith("STREAM_DELETED: ");

        Http.Response unknown = Http.get(http, "/api/nothing?x=1");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body()).startsWith("NOT_FOUND: no API answers GET /api/nothing; the API is GET /api/stats");
        assertThat(Http.raw(http, "/api/%zz").status()).isEqualTo(404);
        assertThat(Http.raw(http, "/assets/%zz").status()).isEqualTo(404);
        assertThat(Http.get(http, "/api/stats").status()).as("the known routes still answer").isEqualTo(200);
    }

    @Test
    void errorCodesMapToStatusesAClientCanActOn() {
        assertThat(HttpEndpoint.status(ErrorCode.INVALID_ARGUMENT).code()).isEqualTo(400);
        assertThat(HttpEndpoint.status(ErrorCode.UNAUTHORIZED).code()).isEqualTo(401);
        assertThat(HttpEndpoint.status(ErrorCode.NOT_FOUND).code()).isEqualTo(404);
        assertThat(HttpEndpoint.status(ErrorCode.STREAM_DELETED).code()).isEqualTo(410);
        for (ErrorCode retryable : List.of(ErrorCode.CLOSED, ErrorCode.UNAVAILABLE, ErrorCode.IO_ERROR, ErrorCode.STORAGE_FULL)) {
            assertThat(HttpEndpoint.status(retryable).code()).as(retryable.name()).isEqualTo(503);
        }
        assertThat(HttpEndpoint.status(ErrorCode.CORRUPTED).code()).isEqualTo(500);
        assertThat(HttpEndpoint.status(ErrorCode.INTERNAL).code()).isEqualTo(500);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(String json) {
        return (Map<String, Object>) Json.parse(json);
    }

    /** Metric family names of a Prometheus text exposition, suffixes included, labels left out. */
    static Set<String> metricNames(String exposition) {
        Set<String> names = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                end++;
            }
            names.add(line.substring(0, end));
        }
        return names;
    }

    /** The value of one sample line, found by its exact name-and-labels prefix. */
    static double sample(String exposition, String nameAndLabels) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(nameAndLabels + " ")) {
                return Double.parseDouble(line.substring(nameAndLabels.length() + 1).trim().split(" ")[0]);
            }
        }
        throw new AssertionError(nameAndLabels + " is not in the exposition");
    }
}
