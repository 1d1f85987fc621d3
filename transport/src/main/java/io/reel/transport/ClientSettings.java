package io.reel.transport;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a {@link ReelClient} can be told, with defaults that work against a default server:
 * TCP to {@code 127.0.0.1:7070}, protobuf, no token, no TLS. Immutable; {@link Builder#build()} checks it.
 */
public final class ClientSettings {
    /** Which of the server's listeners to connect to. */
    public enum Transport { TCP, WEBSOCKET }

    private final String host;
    private final int port;
    private final Transport transport;
    private final String webSocketPath;
    private final String token;
    private final WireFormat format;
    private final boolean tls;
    private final Path trustedCertificate;
    private final Duration keepAliveInterval;
    private final Duration keepAliveTimeout;
    private final Duration reconnectMinBackoff;
    private final Duration reconnectMaxBackoff;
    private final Duration requestTimeout;
    private final int maxBatch;
    private final int prefetch;
    private final int maxFrameSize;
    private final java.util.List<java.net.InetSocketAddress> servers;
    private final boolean coalesceAppends;
    private final int maxAppendBatch;

    private ClientSettings(Builder b) {
        host = b.host;
        port = b.port;
        transport = b.transport;
        webSocketPath = b.webSocketPath;
        token = b.token;
        format = b.format;
        tls = b.tls;
        trustedCertificate = b.trustedCertificate;
        boolean cluster = b.servers != null && b.servers.size() > 1;
        // with somewhere else to go, a frozen or cut-off node is left within seconds, not after a minute
        keepAliveInterval = b.keepAliveInterval != null ? b.keepAliveInterval : Duration.ofSeconds(cluster ? 1 : 10);
        keepAliveTimeout = b.keepAliveTimeout != null ? b.keepAliveTimeout : Duration.ofSeconds(cluster ? 5 : 60);
        reconnectMinBackoff = b.reconnectMinBackoff;
        reconnectMaxBackoff = b.reconnectMaxBackoff;
        requestTimeout = b.requestTimeout;
        maxBatch = b.maxBatch;
        prefetch = b.prefetch;
        maxFrameSize = b.maxFrameSize;
        coalesceAppends = b.coalesceAppends;
        maxAppendBatch = b.maxAppendBatch;
        servers = b.servers == null ? java.util.List.of(java.net.InetSocketAddress.createUnresolved(host, port)) : b.servers;
    }

    /**
     * The servers to connect to, in order: the first at once, the next one each time a connection is lost or
     * refused (the nodes of a cluster); one ({@link #host()}:{@link #port()}) unless {@link Builder#servers} was given.
     */
    public java.util.List<java.net.InetSocketAddress> servers() {
        return servers;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public Transport transport() {
        return transport;
    }

    public String webSocketPath() {
        return webSocketPath;
    }

    /** The bearer token sent in SETUP, or null. */
    public String token() {
        return token;
    }

    public WireFormat format() {
        return format;
    }

    public boolean tls() {
        return tls;
    }

    /** A PEM certificate to trust (e.g. the server's self-signed one); null trusts the JDK's default authorities. */
    public Path trustedCertificate() {
        return trustedCertificate;
    }

    /** How often the client sends a keep-alive frame: every 10 s, or every second when several servers are given. */
    public Duration keepAliveInterval() {
        return keepAliveInterval;
    }

    /**
     * A connection on which no keep-alive was answered for this long is closed and re-established (on the next server
     * of the list): 60 s, or 5 s when several servers are given.
     */
    public Duration keepAliveTimeout() {
        return keepAliveTimeout;
    }

    /** The first delay before reconnecting; each failed attempt doubles it (with jitter) up to {@link #reconnectMaxBackoff()}. */
    public Duration reconnectMinBackoff() {
        return reconnectMinBackoff;
    }

    public Duration reconnectMaxBackoff() {
        return reconnectMaxBackoff;
    }

    /**
     * How long a request-response call (append, info, ...) may take, waiting for a reconnection included,
     * before it fails. Subscriptions have no such limit: they reconnect for as long as they are subscribed.
     */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /** Records per payload the client asks for in reads and subscriptions ({@code max_batch}). */
    public int maxBatch() {
        return maxBatch;
    }

    /** Payloads a read or subscription asks the server for ahead of its consumer ({@code request(n)}). */
    public int prefetch() {
        return prefetch;
    }

    public int maxFrameSize() {
        return maxFrameSize;
    }

    /**
     * Whether appends made while an earlier one is on its way are sent together as one {@code append.batch}
     * (the default), or each on its own on the {@code append} route, as a client without batching sends them.
     */
    public boolean coalesceAppends() {
        return coalesceAppends;
    }

    /** The most appends one {@code append.batch} carries when appends are coalesced. */
    public int maxAppendBatch() {
        return maxAppendBatch;
    }

    @Override
    public String toString() {
        String where = servers.size() == 1 ? host + ":" + port
            : servers.stream().map(a -> a.getHostString() + ":" + a.getPort()).collect(java.util.stream.Collectors.joining(","));
        return (tls ? "tls " : "") + transport.name().toLowerCase(java.util.Locale.ROOT) + " " + where
            + (transport == Transport.WEBSOCKET ? webSocketPath : "");
    }

    /** The settings of a client; {@link #build()} checks them. */
    public static final class Builder {
        private java.util.List<java.net.InetSocketAddress> servers;
        private String host = "127.0.0.1";
        private int port = 7070;
        private Transport transport = Transport.TCP;
        private String webSocketPath = "/rsocket";
        private String token;
        private WireFormat format = WireFormat.PROTOBUF;
        private boolean tls;
        private Path trustedCertificate;
        private Duration keepAliveInterval;
        private Duration keepAliveTimeout;
        private Duration reconnectMinBackoff = Duration.ofMillis(100);
        private Duration reconnectMaxBackoff = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(15);
        private int maxBatch = 256;
        private int prefetch = 8;
        private int maxFrameSize = ServerSettings.MAX_FRAME_SIZE;
        private boolean coalesceAppends = true;
        private int maxAppendBatch = 1024;

        private Builder() {
        }

        public Builder host(String value) {
            host = Objects.requireNonNull(value, "host");
            return this;
        }

        public Builder port(int value) {
            port = value;
            return this;
        }

        public Builder transport(Transport value) {
            transport = Objects.requireNonNull(value, "transport");
            return this;
        }

        public Builder webSocketPath(String path) {
            webSocketPath = Objects.requireNonNull(path, "webSocketPath");
            return this;
        }

        public Builder token(String value) {
            token = value;
            return this;
        }

        public Builder format(WireFormat value) {
            format = Objects.requireNonNull(value, "format");
            return this;
        }

        /** Connect with TLS, trusting the JDK's default authorities, or only {@code certificate} when it is not null. */
        public Builder tls(boolean enabled, Path certificate) {
            tls = enabled;
            trustedCertificate = certificate;
            return this;
        }

        public Builder keepAlive(Duration interval, Duration timeout) {
            keepAliveInterval = Objects.requireNonNull(interval, "interval");
            keepAliveTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        public Builder reconnectBackoff(Duration min, Duration max) {
            reconnectMinBackoff = Objects.requireNonNull(min, "min");
            reconnectMaxBackoff = Objects.requireNonNull(max, "max");
            return this;
        }

        public Builder requestTimeout(Duration value) {
            requestTimeout = Objects.requireNonNull(value, "requestTimeout");
            return this;
        }

        public Builder maxBatch(int records) {
            maxBatch = records;
            return this;
        }

        public Builder prefetch(int payloads) {
            prefetch = payloads;
            return this;
        }

        public Builder maxFrameSize(int bytes) {
            maxFrameSize = bytes;
            return this;
        }

        /**
         * Several servers, {@code HOST:PORT,HOST:PORT,…} (the nodes of a cluster): the client connects to the
         * first and moves to the next whenever its connection is lost. Sets {@link #host} and {@link #port} to the first.
         */
        public Builder servers(String list) {
            java.util.List<java.net.InetSocketAddress> parsed = new java.util.ArrayList<>();
            for (String item : Objects.requireNonNull(list, "list").split(",")) {
                String s = item.trim();
                int colon = s.lastIndexOf(':');
                int p;
                try {
                    p = Integer.parseInt(s.substring(colon + 1));
                } catch (RuntimeException e) {
                    p = -1;
                }
                require(colon > 0 && p > 0 && p <= 65535, "server '" + s + "' is not HOST:PORT, e.g. 127.0.0.1:7070");
                parsed.add(java.net.InetSocketAddress.createUnresolved(s.substring(0, colon), p));
            }
            require(!parsed.isEmpty(), "the server list is empty");
            servers = java.util.List.copyOf(parsed);
            host = parsed.get(0).getHostString();
            port = parsed.get(0).getPort();
            return this;
        }

        /** See {@link ClientSettings#coalesceAppends()}. */
        public Builder coalesceAppends(boolean enabled) {
            coalesceAppends = enabled;
            return this;
        }

        /** See {@link ClientSettings#maxAppendBatch()}. */
        public Builder maxAppendBatch(int appends) {
            maxAppendBatch = appends;
            return this;
        }

        public ClientSettings build() {
            require(!host.isBlank(), "host is empty");
            require(port > 0 && port <= 65535, "port " + port + " is not a port");
            require(webSocketPath.startsWith("/"), "webSocketPath '" + webSocketPath + "' must start with '/'");
            require(token == null || !token.isBlank(), "token is blank; give a token or none");
            require(trustedCertificate == null || tls, "a trusted certificate is given but TLS is off");
            require(trustedCertificate == null || Files.isReadable(trustedCertificate),
                "the trusted certificate " + trustedCertificate + " cannot be read");
            require(keepAliveInterval == null || !keepAliveInterval.isNegative() && !keepAliveInterval.isZero(),
                "keepAliveInterval must be positive");
            require(keepAliveInterval == null || keepAliveTimeout.compareTo(keepAliveInterval) > 0, "keepAliveTimeout " + keepAliveTimeout
                + " must be longer than keepAliveInterval " + keepAliveInterval);
            require(!reconnectMinBackoff.isNegative() && !reconnectMinBackoff.isZero(), "reconnectMinBackoff must be positive");
            require(reconnectMaxBackoff.compareTo(reconnectMinBackoff) >= 0, "reconnectMaxBackoff must be at least reconnectMinBackoff");
            require(!requestTimeout.isNegative() && !requestTimeout.isZero(), "requestTimeout must be positive");
            require(maxBatch >= 1 && maxBatch <= ServerSettings.MAX_BATCH_LIMIT, "maxBatch " + maxBatch
                + " must be between 1 and " + ServerSettings.MAX_BATCH_LIMIT);
            require(prefetch >= 1 && prefetch <= 1024, "prefetch " + prefetch + " must be between 1 and 1024");
            require(maxFrameSize >= 64 * 1024 && maxFrameSize <= ServerSettings.MAX_FRAME_SIZE, "maxFrameSize " + maxFrameSize
                + " must be between 65536 and " + ServerSettings.MAX_FRAME_SIZE);
            require(maxAppendBatch >= 1 && maxAppendBatch <= 10_000, "maxAppendBatch " + maxAppendBatch + " must be between 1 and 10000");
            return new ClientSettings(this);
        }

        private static void require(boolean condition, String sentence) {
            if (!condition) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, sentence);
            }
        }
    }
}
