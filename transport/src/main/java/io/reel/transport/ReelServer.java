package io.reel.transport;

import io.reel.transport.internal.ConnectionResponder;
import io.reel.transport.internal.ErrorFrameRewriter;
import io.reel.transport.internal.MetadataCodec;
import io.reel.transport.internal.Role;
import io.reel.transport.internal.ServerContext;
import io.reel.transport.internal.TokenFile;
import io.reel.transport.internal.TransportMetrics;
import io.reel.transport.internal.WireErrors;
import io.reel.transport.internal.WritabilityGate;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.reel.store.ErrorCode;
import io.reel.store.EventStore;
import io.reel.store.ReelException;
import io.rsocket.ConnectionSetupPayload;
import io.rsocket.RSocket;
import io.rsocket.SocketAcceptor;
import io.rsocket.core.RSocketServer;
import io.rsocket.frame.decoder.PayloadDecoder;
import io.rsocket.transport.netty.server.CloseableChannel;
import io.rsocket.transport.netty.server.TcpServerTransport;
import io.rsocket.transport.netty.server.WebsocketRouteTransport;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;
import reactor.netty.http.server.HttpServer;
import reactor.netty.tcp.TcpServer;

/**
 * An {@link EventStore} served over RSocket, on TCP and on WebSocket, as the wire contract in the design
 * describes: composite metadata with routing, data in protobuf or JSON chosen in SETUP, bearer tokens,
 * optional TLS, and request-n honoured end to end.
 *
 * <pre>{@code
 * try (EventStore store = EventStore.open(Path.of("reel-data"));
 *      ReelServer server = ReelServer.start(store, ServerSettings.builder().tcpPort(0).webSocketPort(0).build())) {
 *     System.out.println("rsocket-tcp " + server.tcpAddress());
 *     ...
 * }
 * }</pre>
 *
 * <p>The server does not own the store: {@link #close()} closes the listeners and every connection, and
 * the caller closes the store after it. Meters go to the store's registry ({@link TransportMetrics}).
 */
public final class ReelServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReelServer.class);

    private final ServerContext context;
    private final Set<RSocket> connections = ConcurrentHashMap.newKeySet();
    private CloseableChannel tcp;
    private CloseableChannel webSocket;
    private volatile boolean closed;

    private final SslContext ssl;

    private ReelServer(EventStore store, ServerSettings settings, SslContext ssl) {
        this.ssl = ssl;
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.context = new ServerContext(store, settings, new TransportMetrics(store.settings().meterRegistry()),
            Schedulers.newParallel("reel-transport", threads, true));
    }

    /**
     * Binds both listeners and starts serving; returns once both are bound (a port of 0 is then a real one).
     *
     * @throws ReelException {@code INVALID_ARGUMENT} when the TLS files do not load, {@code IO_ERROR} when a port
     *                       cannot be bound
     */
    public static ReelServer start(EventStore store, ServerSettings settings) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(settings, "settings");
        SslContext ssl = settings.tls() ? sslContext(settings) : null;
        ReelServer server = new ReelServer(store, settings, ssl);
        try {
            server.bind();
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void bind() {
        ServerSettings s = context.settings();
        RSocketServer rsocket = RSocketServer.create(new Acceptor())
            .payloadDecoder(PayloadDecoder.ZERO_COPY)
            .maxInboundPayloadSize(s.maxFrameSize())
            .maxTimeToFirstFrame(s.setupTimeout())
            .interceptors(registry -> registry.forConnection(new ErrorFrameRewriter(s.maxFrameSize(), context.metrics())));
        long idleMillis = s.keepAliveTimeout().toMillis();

        TcpServer tcpServer = TcpServer.create().host(s.host()).port(s.tcpPort())
            .doOnConnection(c -> prepare(c, idleMillis));
        if (ssl != null) {
            tcpServer = tcpServer.secure(spec -> spec.sslContext(ssl));
        }
        tcp = bindOrFail(rsocket.bind(TcpServerTransport.create(tcpServer, s.maxFrameSize())), "TCP", s.tcpPort());

        HttpServer httpServer = HttpServer.create().host(s.host()).port(s.webSocketPort())
            .doOnConnection(c -> prepare(c, idleMillis));
        if (ssl != null) {
            httpServer = httpServer.secure(spec -> spec.sslContext(ssl));
        }
        WebsocketRouteTransport wsTransport = new WebsocketRouteTransport(httpServer, routes -> { }, s.webSocketPath())
            .webSocketSpec(spec -> spec.maxFramePayloadLength(s.maxFrameSize()));
        webSocket = (CloseableChannel) bindOrFail(rsocket.bind(wsTransport), "WebSocket", s.webSocketPort());
        LOG.info("serving RSocket on tcp {} and ws {}{}{}", tcp.address(), webSocket.address(), s.webSocketPath(),
            (ssl != null ? " with TLS" : "") + (s.tokens() != null ? ", " + s.tokens().size() + " token(s)" : ""));
    }

    /**
     * Closes a connection that stays silent past the keep-alive timeout, and consolidates its flushes: the
     * answers written in one turn of its event loop (the acknowledgements of one writer batch, the records of
     * one read) leave in one flush, one system call, instead of one each.
     */
    private static void prepare(Connection connection, long idleMillis) {
        connection.onReadIdle(idleMillis, connection::dispose);
        connection.channel().pipeline().addFirst("reel.flushes", new FlushConsolidationHandler(256, true));
        connection.channel().pipeline().addFirst("reel.writability", new WritabilityGate(connection.channel()));
    }

    private static <T> T bindOrFail(Mono<T> bind, String what, int port) {
        try {
            return bind.block(Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            throw new ReelException(ErrorCode.IO_ERROR, "cannot listen for " + what + " on port " + port + ": " + rootMessage(e)
                + "; is another process using it?", e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.toString();
    }

    private static SslContext sslContext(ServerSettings s) {
        try {
            return SslContextBuilder.forServer(s.tlsCertificate().toFile(), s.tlsPrivateKey().toFile()).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "cannot load the TLS certificate " + s.tlsCertificate()
                + " and key " + s.tlsPrivateKey() + " (PEM, the key in PKCS#8): " + rootMessage(e));
        }
    }

    /** The bound TCP address (its port is the real one when the settings said 0). */
    public InetSocketAddress tcpAddress() {
        return tcp.address();
    }

    /** The bound WebSocket address; clients connect to {@code ws://ADDRESS}{@link ServerSettings#webSocketPath()}. */
    public InetSocketAddress webSocketAddress() {
        return webSocket.address();
    }

    public ServerSettings settings() {
        return context.settings();
    }

    /** Open RSocket connections (past their SETUP). */
    public int connections() {
        return connections.size();
    }

    /** Closes both listeners and every connection (their reads and subscriptions end); leaves the store open. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<reactor.core.Disposable> listeners = new java.util.ArrayList<>();
        if (tcp != null) {
            listeners.add(tcp);
        }
        if (webSocket != null) {
            listeners.add(webSocket);
        }
        listeners.forEach(reactor.core.Disposable::dispose);
        for (RSocket connection : connections) {
            connection.dispose();
        }
        Flux.fromIterable(connections).flatMap(RSocket::onClose).then()
            .and(tcp == null ? Mono.empty() : tcp.onClose())
            .and(webSocket == null ? Mono.empty() : webSocket.onClose())
            .timeout(Duration.ofSeconds(10), Mono.empty())
            .onErrorResume(e -> Mono.empty())
            .block();
        context.scheduler().dispose();
        context.metrics().close();
    }

    /** Accepts or rejects each SETUP: data mime type, metadata mime type, bearer token, keep-alive. */
    private final class Acceptor implements SocketAcceptor {
        @Override
        public Mono<RSocket> accept(ConnectionSetupPayload setup, RSocket sendingSocket) {
            try {
                ServerSettings s = context.settings();
                WireFormat format = WireFormat.ofMimeType(setup.dataMimeType());
                if (format == null) {
                    throw WireErrors.invalid("data mime type '" + setup.dataMimeType() + "' is not supported; use "
                        + WireFormat.supported());
                }
                if (!MetadataCodec.COMPOSITE.equals(setup.metadataMimeType())) {
                    throw WireErrors.invalid("metadata mime type '" + setup.metadataMimeType() + "' is not supported; use "
                        + MetadataCodec.COMPOSITE + " with a " + MetadataCodec.ROUTING + " entry per request");
                }
                if (setup.keepAliveInterval() >= s.keepAliveTimeout().toMillis()) {
                    throw WireErrors.invalid("the SETUP asks for a keep-alive every " + setup.keepAliveInterval()
                        + " ms, but the server closes connections silent for " + s.keepAliveTimeout().toMillis()
                        + " ms; send keep-alives more often");
                }
                Role role = authenticate(setup, s.tokens());
                if (closed) {
                    throw new ReelException(ErrorCode.CLOSED, "the server is shutting down; connect again shortly");
                }
                track(sendingSocket);
                return Mono.just(new ConnectionResponder(context, role, format));
            } catch (ReelException e) {
                context.metrics().rejected(e.code());
                LOG.debug("rejected a SETUP: {}", e.getMessage());
                return Mono.error(e);
            }
        }

        private Role authenticate(ConnectionSetupPayload setup, TokenFile tokens) {
            if (tokens == null) {
                return Role.ADMIN;
            }
            String token = MetadataCodec.bearerToken(setup.hasMetadata() ? setup.sliceMetadata() : null);
            if (token == null) {
                throw new ReelException(ErrorCode.UNAUTHORIZED, "this server requires a bearer token: send "
                    + MetadataCodec.AUTHENTICATION + " (bearer) in the SETUP metadata");
            }
            Role role = tokens.roleOf(token);
            if (role == null) {
                throw new ReelException(ErrorCode.UNAUTHORIZED, "the bearer token is not one this server knows");
            }
            return role;
        }

        private void track(RSocket connection) {
            connections.add(connection);
            context.metrics().connections.incrementAndGet();
            context.metrics().accepted.increment();
            connection.onClose().doFinally(signal -> {
                connections.remove(connection);
                context.metrics().connections.decrementAndGet();
            }).subscribe(null, e -> { });
        }
    }
}
