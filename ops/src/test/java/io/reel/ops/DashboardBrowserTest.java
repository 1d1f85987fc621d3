package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * Opens the dashboard in a real headless Chromium against a real server runtime under load, and checks that
 * the page drew its uPlot charts with data: a canvas in every chart, several points on the time axis, and a
 * lag series for the stalled subscription. Skips (visibly, with the reason) when no Chromium is installed:
 * set {@code REEL_CHROMIUM} to a browser binary, or {@code apt-get install -y chromium}.
 */
class DashboardBrowserTest {
    private static final List<String> CANDIDATES = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
        "/usr/bin/google-chrome-stable");
    private static final Pattern CHART = Pattern.compile("<div class=\"chart\" id=\"(chart-[a-z-]+)\"([^>]*)>");

    @TempDir
    Path dir;

    static Optional<String> chromium() {
        String configured = System.getenv("REEL_CHROMIUM");
        Stream<String> candidates = configured != null ? Stream.of(configured) : CANDIDATES.stream();
        return candidates.filter(p -> new File(p).canExecute()).findFirst();
    }

    @Test
    @Timeout(120)
    void dashboardDrawsChartsWithDataInAHeadlessBrowser() throws Exception {
        Optional<String> browser = chromium();
        if (browser.isEmpty()) {
            String reason = "SKIPPED dashboard browser test: no Chromium found (looked at " + (System.getenv("REEL_CHROMIUM") != null
                ? "$REEL_CHROMIUM=" + System.getenv("REEL_CHROMIUM") : CANDIDATES.toString())
                + "); install one with 'apt-get install -y chromium' to run it";
            Assumptions.abort(reason);
        }
        try (ServerRuntime runtime = ServerRuntime.start(Configs.onFreePorts(dir.resolve("data"),
            Durability.batched(Duration.ofMillis(5)), 4L << 20))) {
            EventStore store = runtime.store();
            BaseSubscriber<SubscriptionMessage> stalled = new BaseSubscriber<>() {
                @Override
                protected void hookOnSubscribe(Subscription subscription) {
                    subscription.request(1);
                }
            };
            store.subscribe(SubscribeOptions.fromStart().name("stalled-reader")).subscribe(stalled);
            AtomicBoolean loading = new AtomicBoolean(true);
            CompletableFuture<Void> load = Flux.interval(Duration.ofMillis(20), Schedulers.boundedElastic()).onBackpressureDrop()
                .takeWhile(tick -> loading.get())
                .doOnNext(tick -> Stores.append(store, "load", 20, 10))
                .then().toFuture();
            await().atMost(Duration.ofSeconds(20)).until(() -> new StatsHistory(runtime).samples() >= 3);

            String url = "http://" + ServerRuntime.hostPort(runtime.httpAddress()) + "/";
            String dom = dumpDom(browser.get(), url, Files.createDirectories(dir.resolve("chromium")));
            String screenshot = System.getProperty("reel.dashboard.screenshot");
            if (screenshot != null) {
                run(browser.get(), Files.createDirectories(dir.resolve("chromium-shot")), "--screenshot=" + Path.of(screenshot).toAbsolutePath(), url);
            }
            loading.set(false);
            load.get(30, TimeUnit.SECONDS); // stops at its next tick, never interrupted inside an append
            stalled.dispose();

            Matcher m = CHART.matcher(dom);
            int charts = 0;
            while (m.find()) {
                charts++;
                String id = m.group(1);
                int next = dom.indexOf("</section>", m.end());
                assertThat(dom.substring(m.end(), next)).as("%s holds a uPlot canvas", id).contains("<canvas");
                int points = Integer.parseInt(attribute(m.group(2), "data-points"));
                assertThat(points).as("%s has points on its time axis", id).isGreaterThanOrEqualTo(3);
                if (id.equals("chart-lag-events")) {
                    assertThat(attribute(m.group(2), "data-series")).contains("subscription stalled-reader");
                }
            }
            assertThat(charts).as("rate, head, lag (events) and lag (seconds) charts").isEqualTo(4);
            assertThat(dom).contains("stalled-reader").contains("class=\"value ok\"");
        }
    }

    @Test
    @Timeout(120)
    void streamBrowserListsStreamsShowsEventsNewestFirstAndTailsTheLog() throws Exception {
        Optional<String> browser = chromium();
        if (browser.isEmpty()) {
            String reason = "SKIPPED stream browser test: no Chromium found (looked at " + (System.getenv("REEL_CHROMIUM") != null
                ? "$REEL_CHROMIUM=" + System.getenv("REEL_CHROMIUM") : CANDIDATES.toString())
                + "); install one with 'apt-get install -y chromium' to run it";
            System.err.println(reason);
            Assumptions.abort(reason);
        }
        try (ServerRuntime runtime = ServerRuntime.start(Configs.onFreePorts(dir.resolve("data"),
            Durability.batched(Duration.ofMillis(5)), 4L << 20))) {
            EventStore store = runtime.store();
            store.append("mixed-1", ExpectedRevision.ANY, EventData.json("Placed", "{\"total\":12,\"items\":[\"a\"]}")).block();
            store.append("mixed-1", ExpectedRevision.ANY, EventData.of("Blob", new byte[] {1, 2, (byte) 0xff})).block();
            store.append("mixed-2", ExpectedRevision.ANY, EventData.json("Placed", "{}")).block();
            store.append("other-1", ExpectedRevision.ANY, EventData.json("Noted", "{}")).block();

            String url = "http://" + ServerRuntime.hostPort(runtime.httpAddress()) + "/#prefix=mixed-&stream=mixed-1";
            String dom = dumpDom(browser.get(), url, Files.createDirectories(dir.resolve("chromium")));

            String streams = section(dom, "id=\"streams\"", "id=\"events\"");
            assertThat(streams).as("the prefix filter keeps mixed-*").contains("data-rows=\"2\"").contains("mixed-1").contains("mixed-2")
                .doesNotContain("other-1");
            String events = section(dom, "id=\"events\"", "Live tail");
            assertThat(events).contains("data-stream=\"mixed-1\"");
            int binary = events.indexOf("3 bytes: 01 02 ff");
            int json = events.indexOf("\"total\": 12,\n  \"items\": [");
            assertThat(binary).as("binary data as size and hex").isPositive();
            assertThat(json).as("JSON data pretty-printed").isPositive();
            assertThat(binary).as("newest first").isLessThan(json);
            String tail = dom.substring(dom.indexOf("id=\"tail\""));
            assertThat(tail).contains("data-rows=\"4\"").contains("other-1").contains("mixed-2");
        }
    }

    private static String section(String dom, String from, String to) {
        int start = dom.indexOf(from);
        assertThat(start).as("%s in the page", from).isNotNegative();
        int end = dom.indexOf(to, start);
        return dom.substring(start, end < 0 ? dom.length() : end);
    }

    /** The page's DOM after five seconds of (virtual) time: the dashboard has polled a few times by then. */
    private static String dumpDom(String browser, String url, Path profile) throws Exception {
        return run(browser, profile, "--dump-dom", url);
    }

    private static String run(String browser, Path profile, String action, String url) throws Exception {
        Path out = profile.resolve("stdout.txt");
        Process p = new ProcessBuilder(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile.resolve("profile"),
            "--window-size=1280,1000", "--virtual-time-budget=5000", action, url)
            .redirectOutput(out.toFile())
            .redirectError(profile.resolve("stderr.txt").toFile())
            .start();
        try {
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("chromium finished").isTrue();
            assertThat(p.exitValue()).as("chromium's exit code; its stderr is in %s", profile.resolve("stderr.txt")).isZero();
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            p.destroyForcibly();
        }
    }

    private static String attribute(String attributes, String name) {
        Matcher m = Pattern.compile(name + "=\"([^\"]*)\"").matcher(attributes);
        if (!m.find()) {
            throw new AssertionError(name + " missing in " + attributes);
        }
        return m.group(1);
    }

    /** How many samples the runtime's sampler holds, read through its HTTP API as the page reads it. */
    private record StatsHistory(ServerRuntime runtime) {
        int samples() {
            return ((List<?>) Json.parse(Http.get(ServerRuntime.hostPort(runtime.httpAddress()), "/api/history").body())).size();
        }
    }
}
