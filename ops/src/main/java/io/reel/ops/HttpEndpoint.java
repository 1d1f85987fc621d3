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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 * An API request that fails answers {@code CODE: sentence} in plain text with the HTTP status of the code
 * ({@link #status}); a path under {@code /api/} that is none of the above answers 404 {@code NOT_FOUND}.
 *
 * <p>Nothing here blocks an event loop: stats come from the sampler's memory, the scrape (whose gauges may
 * look at files) and the history's JSON run on {@code boundedElastic}, and static files are read once, at start.
 */
final class HttpEndpoint implements AutoCloseable {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String JSON = "application/json";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final List<String> API = List.of("/api/stats", "/api/history", "/api/streams", "/api/events", "/api/tail", "/api/cluster");
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);
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
            // One request per connection ("Connection: close" on every answer). Reactor Netty 1.3.6 stops reading a
            // keep-alive connection for good when a request arrives before the previous answer has ended and is then
            // answered at once (reactor-netty#4361, fixed after 1.3.7): the next request on that connection waited for
            // ever, a dashboard's poll or a test's GET after an error. A new connection per poll costs little here.
            this.server = HttpServer.create().host(host).port(port).maxKeepAliveRequests(1)
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
                    .get("/assets/{file}", this::asset)
                    .route(req -> rawPath(req.uri()).startsWith("/api/") || rawPath(req.uri()).equals("/api"), HttpEndpoint::unknownApi))
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

    /**
     * {@code GET /api/history}: up to {@value StatsSampler#HISTORY} samples, each with a row per subscription, group
     * and projection, make a JSON text that grows with them, so it is built on {@code boundedElastic}, as the scrape
     * is, not on the event loop, which serves the other connections it holds meanwhile.
     */
    private Publisher<Void> history(HttpServerResponse res) {
        return Mono.fromCallable(() -> {
                List<StatsSampler.Sample> samples = sampler.history();
                List<Map<String, Object>> trees = new ArrayList<>(samples.size());
                for (StatsSampler.Sample s : samples) {
                    trees.add(s.toJsonTree());
                }
                return Json.write(trees);
            })
            .subscribeOn(Schedulers.boundedElastic())
            .flatMap(json -> res.header("Content-Type", JSON).header("Cache-Control", "no-store").sendString(Mono.just(json)).then());
    }

    /**
     * Answers with what {@code read} makes of the request's query, or with the error it fails with. The query is
     * decoded inside the answer, not in the handler: Netty decodes it lazily and throws on a bad percent-encoding,
     * and a handler that throws leaves Reactor Netty nothing to do but log it and drop the connection.
     */
    private static Publisher<Void> browse(HttpServerRequest req, HttpServerResponse res,
                                          java.util.function.Function<Map<String, List<String>>, Mono<String>> read) {
        return Mono.defer(() -> read.apply(query(req.uri())))
            .map(json -> new Answer(HttpResponseStatus.OK, JSON, json))
            .onErrorResume(e -> Mono.just(Answer.of(e)))
            .flatMap(answer -> res.status(answer.status()).header("Content-Type", answer.contentType()).header("Cache-Control", "no-store")
                .sendString(Mono.just(answer.body())).then());
    }

    /** The parameters of {@code uri}'s query; {@code INVALID_ARGUMENT} when it is not valid percent-encoding. */
    static Map<String, List<String>> query(String uri) {
        try {
            return new io.netty.handler.codec.http.QueryStringDecoder(uri).parameters();
        } catch (IllegalArgumentException e) {
            throw ReelException.invalidArgument("the query is not valid percent-encoding (" + e.getMessage() + "); write a % in a value"
                + " as %25, and other reserved characters as %XX (encodeURIComponent does)");
        }
    }

    /**
     * The path of {@code uri} as sent, without its query: not {@code fullPath()}, which decodes it and throws on a bad
     * percent-encoding.
     */
    static String rawPath(String uri) {
        int end = uri.length();
        for (int i = 0; i < uri.length(); i++) {
            if (uri.charAt(i) == '?' || uri.charAt(i) == '#') {
                end = i;
                break;
            }
        }
        return uri.substring(0, end);
    }

    /** An answer of the API: JSON, or an error as {@code CODE: sentence} in plain text with the status of its code. */
    private record Answer(HttpResponseStatus status, String contentType, String body) {
        static Answer of(Throwable e) {
            if (e instanceof ReelException r) {
                return new Answer(HttpEndpoint.status(r.code()), TEXT, r.getMessage() + "\n");
            }
            LOG.error("an HTTP API request failed unexpectedly", e);
            return new Answer(HttpResponseStatus.INTERNAL_SERVER_ERROR, TEXT, "INTERNAL: " + e + "; this is a bug in Reel, please report"
                + " it with the server's log\n");
        }
    }

    /**
     * The HTTP status of an error code: the caller's mistakes are 4xx, what may pass by itself (a store closing,
     * writes stopped, a cluster without a leader) is 503 so that a client or a load balancer tries again, the rest
     * is 500. Every code is listed, so a new one must be placed here.
     */
    static HttpResponseStatus status(ErrorCode code) {
        return switch (code) {
            case INVALID_ARGUMENT -> HttpResponseStatus.BAD_REQUEST;
            case UNAUTHORIZED -> HttpResponseStatus.UNAUTHORIZED;
            case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
            case WRONG_EXPECTED_VERSION -> HttpResponseStatus.CONFLICT;
            case STREAM_DELETED -> HttpResponseStatus.GONE;
            case TOO_LARGE -> HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
            case CLOSED, UNAVAILABLE, IO_ERROR, STORAGE_FULL, OVERLOADED, NOT_LEADER -> HttpResponseStatus.SERVICE_UNAVAILABLE;
            case CORRUPTED, LOCKED, INTERNAL -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
        };
    }

    /** Any request under {@code /api/} that no route above takes: a sentence rather than Reactor Netty's empty 404. */
    private static Publisher<Void> unknownApi(HttpServerRequest req, HttpServerResponse res) {
        String path = rawPath(req.uri());
        return res.status(HttpResponseStatus.NOT_FOUND).header("Content-Type", TEXT)
            .sendString(Mono.just("NOT_FOUND: no API answers " + req.method().name() + " " + (path.length() > 200 ? path.substring(0, 200)
                + "..." : path) + "; the API is GET " + String.join(", ", API) + "\n"));
    }

    private Publisher<Void> asset(HttpServerRequest req, HttpServerResponse res) {
        Asset asset = assets.get(rawPath(req.uri()));
        if (asset == null) {
            return res.status(HttpResponseStatus.NOT_FOUND).header("Content-Type", TEXT)
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
