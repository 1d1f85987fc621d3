package io.reel.ops;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.reel.projection.EventTypeCounts;
import io.reel.projection.Projections;
import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.Progress;
import io.reel.store.EventStore;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import io.reel.transport.ProjectionDirectory;
import io.reel.transport.ReelServer;
import io.reel.transport.ServerSettings;
import io.reel.transport.cluster.ClusterNode;
import io.reel.transport.cluster.ClusterSettings;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything {@code reel server} runs, wired together: the store (with its meters in a Prometheus registry),
 * the projections (the built-in {@code event-types}), the RSocket server (TCP and WebSocket), the stats
 * sampler and the HTTP endpoint. Started in that order, closed in the reverse one, so that on close
 * nothing new arrives while the store drains its queued appends and forces them.
 *
 * <p>This is the one place where modules meet; each part keeps its own settings object.
 */
final class ServerRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServerRuntime.class);

    /**
     * What the server is told on its command line, checked once before anything starts.
     *
     * @param rsocketPort TCP port of the RSocket listener (0: pick a free one)
     * @param wsPort      port of the RSocket WebSocket listener (0: pick a free one)
     * @param httpPort    port of the HTTP endpoint (0: pick a free one)
     * @param tokens      the tokens file, or null when every connection may do everything
     * @param tlsCertificate PEM certificate (chain) for TLS on both RSocket listeners, or null for plain connections
     * @param tlsPrivateKey  PEM PKCS#8 key that goes with {@code tlsCertificate}, or null
     * @param repair      open with {@link StoreSettings#repair()}: quarantine damaged files and report the loss
     * @param maxEventSize       largest data + metadata of one event, in bytes ({@code --max-event-size})
     * @param maxEventsPerAppend most events in one append ({@code --max-events-per-append})
     * @param compression how frames store their records ({@code --compression})
     * @param cluster     the cluster this node belongs to, or null for a standalone server
     */
    record Config(Path data, String host, int rsocketPort, int wsPort, int httpPort, Durability durability, long segmentSize,
                  Path tokens, Path tlsCertificate, Path tlsPrivateKey, boolean repair, long maxEventSize, int maxEventsPerAppend,
                  StoreSettings.Compression compression, ClusterSettings cluster) {
        /** The defaults of {@code --max-event-size} and {@code --max-events-per-append}, those of {@link StoreSettings}. */
        static final long DEFAULT_MAX_EVENT_SIZE = StoreSettings.defaults().maxEventSize();
        static final int DEFAULT_MAX_EVENTS_PER_APPEND = StoreSettings.defaults().maxEventsPerAppend();

        /** A standalone server with default limits, frames stored uncompressed. */
        Config(Path data, String host, int rsocketPort, int wsPort, int httpPort, Durability durability, long segmentSize,
               Path tokens, Path tlsCertificate, Path tlsPrivateKey, boolean repair) {
            this(data, host, rsocketPort, wsPort, httpPort, durability, segmentSize, tokens, tlsCertificate, tlsPrivateKey, repair,
                DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_EVENTS_PER_APPEND, StoreSettings.Compression.NONE, null);
        }

        Config {
            Objects.requireNonNull(compression, "compression");
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(durability, "durability");
            checkPort("--rsocket-port", rsocketPort);
            checkPort("--ws-port", wsPort);
            checkPort("--http-port", httpPort);
            if (tokens != null && !Files.isReadable(tokens)) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "the tokens file " + tokens.toAbsolutePath()
                    + " does not exist or cannot be read; give a file of 'TOKEN ROLE' lines (--tokens)");
            }
            if ((tlsCertificate == null) != (tlsPrivateKey == null)) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "TLS needs both --tls-cert and --tls-key; give both or neither");
            }
            if (Files.exists(data) && !Files.isDirectory(data)) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, data.toAbsolutePath() + " is a file, not a directory; give a data directory (--data)");
            }
            ServerLimits.check(segmentSize, maxEventSize, maxEventsPerAppend);
            List<Integer> fixed = new ArrayList<>();
            for (int p : new int[] {rsocketPort, wsPort, httpPort}) {
                if (p != 0 && fixed.contains(p)) {
                    throw new ReelException(ErrorCode.INVALID_ARGUMENT, "port " + p + " is given to two listeners; give "
                        + "--rsocket-port, --ws-port and --http-port different ports (or 0 to pick free ones)");
                }
                fixed.add(p);
            }
        }

        private static void checkPort(String flag, int port) {
            if (port < 0 || port > 65535) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, flag + " " + port + " is not a port; give 1-65535, or 0 to pick a free one");
            }
        }

        StoreSettings storeSettings(PrometheusMeterRegistry registry) {
            return StoreSettings.builder().durability(durability).segmentSize(segmentSize).maxEventSize((int) maxEventSize)
                .maxEventsPerAppend(maxEventsPerAppend).repair(repair).compression(compression).meterRegistry(registry).build();
        }

        ServerSettings serverSettings(ProjectionDirectory projections) {
            return serverSettings(projections, null);
        }

        ServerSettings serverSettings(ProjectionDirectory projections, ClusterNode node) {
            return ServerSettings.builder().host(host).tcpPort(rsocketPort).webSocketPort(wsPort).tokensFile(tokens)
                .tls(tlsCertificate, tlsPrivateKey).projections(projections).replication(node).build();
        }
    }

    private final Config config;
    private final Progress progress;
    private final PrometheusMeterRegistry registry;
    private final List<AutoCloseable> started = new ArrayList<>();
    private EventStore store;
    private ClusterNode node;
    private Projections projections;
    private ReelServer rsocket;
    private StatsSampler sampler;
    private HttpEndpoint http;
    private boolean closed;

    private ServerRuntime(Config config, Progress progress) {
        this.config = config;
        this.progress = progress;
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    /**
     * Opens the store and starts serving.
     *
     * @throws ReelException {@code LOCKED} when another process owns the data directory, {@code CORRUPTED} when
     *                       acknowledged data is damaged, {@code IO_ERROR} when a port cannot be bound,
     *                       {@code INVALID_ARGUMENT} for settings that do not fit together
     */
    static ServerRuntime start(Config config) {
        return start(config, Progress.NONE);
    }

    /** As {@link #start(Config)}, telling {@code progress} how the replay of the stream index goes while the store opens. */
    static ServerRuntime start(Config config, Progress progress) {
        ServerRuntime runtime = new ServerRuntime(config, progress);
        try {
            runtime.startAll();
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
        return runtime;
    }

    private void startAll() {
        node = config.cluster() == null ? null : ClusterNode.create(config.cluster());
        StoreSettings base = config.storeSettings(registry).toBuilder().progress(progress).build();
        StoreSettings settings = node == null ? base : node.storeSettings(base);
        config.serverSettings(ProjectionDirectory.NONE); // reads the tokens file and checks TLS files before anything opens
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        started.add(gc);
        try {
            store = EventStore.open(config.data(), settings);
        } catch (ReelException e) {
            if (e.code() == ErrorCode.CORRUPTED) {
                throw new ReelException(ErrorCode.CORRUPTED, e.sentence() + ". Run 'reel verify --data " + config.data()
                    + "' to see the damage; 'reel server --repair' quarantines the damaged files and reports how many events were lost", e);
            }
            throw e;
        }
        started.add(store);
        if (node != null) {
            node.start(store, config.data().resolve("raft"));
            started.add(node);
        }
        var recovery = store.recovery();
        if (recovery.truncatedBytes() > 0 || recovery.lostEvents() > 0 || !recovery.repairs().isEmpty()) {
            LOG.warn("recovery cut {} bytes of unacknowledged tail, lost {} event(s) to repair{}", recovery.truncatedBytes(),
                recovery.lostEvents(), recovery.repairs().isEmpty() ? "" : ": " + String.join("; ", recovery.repairs()));
        }
        projections = Projections.embedded(store);
        started.add(projections);
        projections.start(EventTypeCounts.projection());
        rsocket = ReelServer.start(store, config.serverSettings(new ServedProjections(projections), node));
        started.add(rsocket);
        EventStore opened = store;
        Projections running = projections;
        ReelServer serving = rsocket;
        sampler = new StatsSampler(store, registry, () -> running.list().stream().map(StatsSampler.Lag::of).toList(),
            () -> opened.groups().list().stream().map(StatsSampler.Lag::of).toList(), serving::connections);
        sampler.start();
        started.add(sampler);
        http = HttpEndpoint.start(config.host(), config.httpPort(), store, registry, sampler);
        started.add(http);
        if (node != null) {
            http.cluster(node::clusterInfo);
            node.announce(hostPort(rsocket.tcpAddress()), hostPort(http.address()));
        }
        LOG.info("dashboard http://{}:{}/", config.host(), http.address().getPort());
    }

    EventStore store() {
        return store;
    }

    /** The cluster node, or null for a standalone server. */
    ClusterNode node() {
        return node;
    }

    Projections projections() {
        return projections;
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    InetSocketAddress tcpAddress() {
        return rsocket.tcpAddress();
    }

    InetSocketAddress webSocketAddress() {
        return rsocket.webSocketAddress();
    }

    InetSocketAddress httpAddress() {
        return http.address();
    }

    /** The lines {@code reel server} prints before {@code ready}: one per listener, {@code NAME HOST:PORT}. */
    List<String> listenerLines() {
        List<String> lines = new ArrayList<>();
        lines.add("rsocket-tcp " + hostPort(rsocket.tcpAddress()));
        lines.add("rsocket-ws " + hostPort(rsocket.webSocketAddress()));
        lines.add("http " + hostPort(http.address()));
        if (node != null) {
            lines.add("raft " + node.raftAddress());
        }
        return lines;
    }

    static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /**
     * Stops serving and closes the store: listeners first (nothing new arrives), then the store, which
     * writes and forces every append already queued before it returns. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        for (int i = started.size() - 1; i >= 0; i--) {
            AutoCloseable part = started.get(i);
            try {
                part.close();
            } catch (Exception e) {
                LOG.error("closing {} failed: {}", part.getClass().getSimpleName(), e.toString());
                if (failure == null) {
                    failure = e instanceof RuntimeException r ? r : new ReelException(ErrorCode.IO_ERROR, "closing failed: " + e, e);
                }
            }
        }
        registry.close();
        if (failure != null) {
            throw failure;
        }
    }
}
