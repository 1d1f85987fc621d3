package io.reel.ops;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.reel.store.ErrorCode;
import io.reel.store.EventStore;
import io.reel.store.ReelException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The server's HTTP side (Reactor Netty):
 * <ul>
 *   <li>{@code GET /metrics}: every meter in Prometheus text format;</li>
 *   <li>{@code GET /health}: {@code {"status", "writer", "head", "disk_free_bytes"}}, HTTP 200 while the store
 *       takes writes and 503 while writes are stopped ({@code STORAGE_FULL}, {@code IO_ERROR}) or it is closing;</li>
 *   <li>{@code GET /api/stats}: the latest {@link StatsSampler.Sample} as JSON (head, append rate,
 *       subscriptions, groups and projections with their lag, segments, bytes);</li>
 *   <li>{@code GET /api/history}: the samples of the last minutes, oldest first, as a JSON array;</li>
 *   <li>{@code GET /api/streams}, {@code /api/events}, {@code /api/tail}: the stream browser's data ({@link StreamBrowser});</li>
 *   <li>{@code GET /}: the live dashboard, drawn with uPlot and Tabulator served from their webjars under {@code /assets/}.</li>
 * </ul>
 *
 * <p>Nothing here blocks an event loop: stats come from the sampler's memory, the scrape (whose gauges may
 * look at files) runs on {@code boundedElastic}, and static files are read once, at start.
 */
final class HttpEndpoint implements AutoCloseable {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String JSON = "application/json";
    private static final String UPLOT = "META-INF/resources/webjars/uplot/";
    private static final String TABULATOR = "META-INF/resources/webjars/tabulator-tables/";

    private final EventStore store;
    private final PrometheusMeterRegistry registry;
    private final StatsSampler sampler;
    private final Map<String, Asset> assets;
    private final StreamBrowser browser;
    private final DisposableServer server;
    private volatile java.util.function.Supplier<io.reel.proto.ClusterInfo> cluster;

    private record Asset(String contentType, byte[] bytes) {
    }

    private HttpEndpoint(String host, int port, EventStore store, PrometheusMeterRegistry registry, StatsSampler sampler) {
        this.store = store;
        this.registry = registry;
        this.sampler = sampler;
        String uplot = UPLOT + webjarVersion("uplot") + "/dist/";
        String tabulator = TABULATOR + webjarVersion("tabulator-tables") + "/dist/";
        this.browser = new StreamBrowser(store);
        this.assets = Map.of(
            "/assets/tabulator.min.js", new Asset("text/javascript; charset=utf-8", resource(HttpEndpoint.class.getClassLoader(),
                tabulator + "js/tabulator.min.js")),
            "/assets/tabulator_simple.min.css", new Asset("text/css; charset=utf-8", resource(HttpEndpoint.class.getClassLoader(),
                tabulator + "css/tabulator_simple.min.css")),
            "/", new Asset("text/html; charset=utf-8", resource(HttpEndpoint.class.getClassLoader(), "io/reel/ops/dashboard.html")),
            "/assets/uPlot.iife.min.js", new Asset("text/javascript; charset=utf-8", resource(HttpEndpoint.class.getClassLoader(),
                uplot + "uPlot.iife.min.js")),
            "/assets/uPlot.min.css", new Asset("text/css; charset=utf-8", resource(HttpEndpoint.class.getClassLoader(), uplot + "uPlot.min.css")));
        try {
            this.server = HttpServer.create().host(host).port(port)
                .route(routes -> routes
                    .get("/metrics", (req, res) -> metrics(res))
                    .get("/health", (req, res) -> health(res))
                    .get("/api/stats", (req, res) -> stats(res))
                    .get("/api/history", (req, res) -> history(res))
                    .get("/api/streams", (req, res) -> browse(req, res, browser::streams))
                    .get("/api/events", (req, res) -> browse(req, res, browser::events))
                    .get("/api/tail", (req, res) -> browse(req, res, browser::tail))
                    .get("/api/cluster", (req, res) -> cluster(res))
                    .get("/", this::asset)
                    .get("/index.html", (req, res) -> send(res, assets.get("/")))
                    .get("/assets/{file}", this::asset))
                .bindNow(Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            throw new ReelException(ErrorCode.IO_ERROR, "cannot listen for HTTP on " + host + ":" + port + ": " + rootMessage(e)
                + "; is another process using the port? Stop it or choose another --http-port (0 picks a free one)", e);
        }
    }

    /** Binds and serves; returns once bound. */
    static HttpEndpoint start(String host, int port, EventStore store, PrometheusMeterRegistry registry, StatsSampler sampler) {
        return new HttpEndpoint(host, port, store, registry, sampler);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.address();
    }

    private Publisher<Void> metrics(HttpServerResponse res) {
        return Mono.fromCallable(registry::scrape)
            .subscribeOn(Schedulers.boundedElastic())
            .flatMap(text -> res.header("Content-Type", PROMETHEUS_TEXT).sendString(Mono.just(text)).then());
    }

    private Publisher<Void> health(HttpServerResponse res) {
        String writer = store.writerState();
        StatsSampler.Sample sample = sampler.latest();
        boolean ok = "ok".equals(writer);
        Map<String, Object> health = new LinkedHashMap<>();
        health.put("status", ok ? "ok" : "writes_stopped");
        health.put("writer", writer);
        health.put("head", store.headPosition());
        health.put("disk_free_bytes", sample.diskFreeBytes());
        health.put("data_dir", store.directory().toAbsolutePath().toString());
        String json = Json.write(health);
        return res.status(ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE)
            .header("Content-Type", JSON).header("Cache-Control", "no-store").sendString(Mono.just(json));
    }

    private Publisher<Void> stats(HttpServerResponse res) {
        String json = Json.write(sampler.latest().toJsonTree());
        return res.header("Content-Type", JSON).header("Cache-Control", "no-store").sendString(Mono.just(json));
    }

    /** Serves {@code /api/cluster} from {@code info} (the node's {@code cluster.info}); a standalone server has none. */
    void cluster(java.util.function.Supplier<io.reel.proto.ClusterInfo> info) {
        cluster = info;
    }

    /** {@code GET /api/cluster}: the members as {@code cluster.info} reports them, in the protobuf JSON mapping. */
    private Publisher<Void> cluster(HttpServerResponse res) {
        return Mono.fromCallable(() -> {
                var supplier = cluster;
                io.reel.proto.ClusterInfo info = supplier != null ? supplier.get() : io.reel.proto.ClusterInfo.newBuilder()
                    .addMembers(io.reel.proto.ClusterMember.newBuilder().setRole("STANDALONE").setHead(store.headPosition())).build();
                return com.google.protobuf.util.JsonFormat.printer().alwaysPrintFieldsWithNoPresence().print(info);
            })
            .subscribeOn(Schedulers.boundedElastic())
            .flatMap(json -> res.header("Content-Type", JSON).header("Cache-Control", "no-store").sendString(Mono.just(json)).then());
    }

    private Publisher<Void> history(HttpServerResponse res) {
        List<StatsSampler.Sample> samples = sampler.history();
        List<Map<String, Object>> trees = new ArrayList<>(samples.size());
        for (StatsSampler.Sample s : samples) {
            trees.add(s.toJsonTree());
        }
        return res.header("Content-Type", JSON).header("Cache-Control", "no-store").sendString(Mono.just(Json.write(trees)));
    }

    private static Publisher<Void> browse(HttpServerRequest req, HttpServerResponse res,
                                          java.util.function.Function<Map<String, List<String>>, Mono<String>> read) {
        Map<String, List<String>> query = new io.netty.handler.codec.http.QueryStringDecoder(req.uri()).parameters();
        return Mono.defer(() -> read.apply(query))
            .flatMap(json -> res.header("Content-Type", JSON).header("Cache-Control", "no-store").sendString(Mono.just(json)).then())
            .onErrorResume(ReelException.class, e -> res.status(e.code() == ErrorCode.INVALID_ARGUMENT ? HttpResponseStatus.BAD_REQUEST
                    : HttpResponseStatus.SERVICE_UNAVAILABLE).header("Content-Type", "text/plain; charset=utf-8")
                .sendString(Mono.just(e.getMessage() + "\n")).then());
    }

    private Publisher<Void> asset(HttpServerRequest req, HttpServerResponse res) {
        Asset asset = assets.get(req.path().isEmpty() ? "/" : "/" + req.path());
        if (asset == null) {
            return res.status(HttpResponseStatus.NOT_FOUND).header("Content-Type", "text/plain; charset=utf-8")
                .sendString(Mono.just("NOT_FOUND: no such file; the dashboard is at /\n"));
        }
        return send(res, asset);
    }

    private static Publisher<Void> send(HttpServerResponse res, Asset asset) {
        return res.header("Content-Type", asset.contentType()).header("Content-Length", String.valueOf(asset.bytes().length))
            .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(asset.bytes())));
    }

    private static String webjarVersion(String artifact) {
        Properties p = new Properties();
        try (InputStream in = HttpEndpoint.class.getClassLoader().getResourceAsStream("META-INF/maven/org.webjars.npm/" + artifact
            + "/pom.properties")) {
            if (in == null) {
                throw new IllegalStateException("the " + artifact + " webjar is not on the class path");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }

    private static byte[] resource(ClassLoader loader, String name) {
        try (InputStream in = loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the class path; the jar is incomplete");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
