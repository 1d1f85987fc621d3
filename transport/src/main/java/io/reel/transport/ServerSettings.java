package io.reel.transport;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.transport.internal.TokenFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a {@link ReelServer} can be told, with defaults that work out of the box: TCP on
 * {@code 127.0.0.1:7070}, WebSocket on {@code 127.0.0.1:7071} at {@code /rsocket}, frames up to 16 MiB on
 * both, no tokens (every connection may do everything) and no TLS. Immutable; {@link Builder#build()}
 * checks the settings, alone and against each other, and reads the tokens file, before anything binds.
 */
public final class ServerSettings {
    /** The largest RSocket frame: its length field has 24 bits. */
    public static final int MAX_FRAME_SIZE = 0xFF_FFFF;
    /** The largest {@code max_batch} a read or subscription may ask for. */
    public static final int MAX_BATCH_LIMIT = 10_000;

    private final String host;
    private final int tcpPort;
    private final int webSocketPort;
    private final String webSocketPath;
    private final int maxFrameSize;
    private final int maxStreamsPerConnection;
    private final Duration keepAliveTimeout;
    private final Duration setupTimeout;
    private final Path tokensFile;
    private final TokenFile tokens;
    private final Path tlsCertificate;
    private final Path tlsPrivateKey;
    private final ProjectionDirectory projections;
    private final Replication replication;
    private final java.time.Duration minHeadWait;

    private ServerSettings(Builder b, TokenFile tokens) {
        host = b.host;
        tcpPort = b.tcpPort;
        webSocketPort = b.webSocketPort;
        webSocketPath = b.webSocketPath;
        maxFrameSize = b.maxFrameSize;
        maxStreamsPerConnection = b.maxStreamsPerConnection;
        keepAliveTimeout = b.keepAliveTimeout;
        setupTimeout = b.setupTimeout;
        tokensFile = b.tokensFile;
        this.tokens = tokens;
        tlsCertificate = b.tlsCertificate;
        tlsPrivateKey = b.tlsPrivateKey;
        projections = b.projections;
        replication = b.replication;
        minHeadWait = b.minHeadWait;
    }

    public static ServerSettings defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The address both listeners bind to. */
    public String host() {
        return host;
    }

    /** The TCP port (0: pick a free one; {@link ReelServer#tcpAddress()} tells which). */
    public int tcpPort() {
        return tcpPort;
    }

    /** The WebSocket port (0: pick a free one; {@link ReelServer#webSocketAddress()} tells which). */
    public int webSocketPort() {
        return webSocketPort;
    }

    public String webSocketPath() {
        return webSocketPath;
    }

    /**
     * The largest frame the server accepts on TCP and WebSocket alike, and the largest request payload
     * (a payload a client fragments is reassembled up to this size; a larger one fails that request only).
     */
    public int maxFrameSize() {
        return maxFrameSize;
    }

    /** Subscriptions and reads (request-streams) one connection may have open at once; more fail with {@code OVERLOADED}. */
    public int maxStreamsPerConnection() {
        return maxStreamsPerConnection;
    }

    /**
     * A connection from which nothing, not even a keep-alive frame, arrived for this long is closed; a SETUP
     * whose keep-alive interval is not shorter is rejected.
     */
    public Duration keepAliveTimeout() {
        return keepAliveTimeout;
    }

    /** A connection that has not sent a valid SETUP within this time is closed. */
    public Duration setupTimeout() {
        return setupTimeout;
    }

    /** The tokens file, or null when every connection may do everything. */
    public Path tokensFile() {
        return tokensFile;
    }

    TokenFile tokens() {
        return tokens;
    }

    /** The PEM certificate (chain) for TLS on both listeners, or null for plain connections. */
    public Path tlsCertificate() {
        return tlsCertificate;
    }

    /** The PEM PKCS#8 private key that goes with {@link #tlsCertificate()}, or null. */
    public Path tlsPrivateKey() {
        return tlsPrivateKey;
    }

    public boolean tls() {
        return tlsCertificate != null;
    }

    public ProjectionDirectory projections() {
        return projections;
    }

    /** Where writes go in a cluster node; null for a standalone server (writes go to the store). */
    public Replication replication() {
        return replication;
    }

    /** How long a read or subscription with {@code min_head} waits for the head before failing with {@code UNAVAILABLE}. */
    public java.time.Duration minHeadWait() {
        return minHeadWait;
    }

    /** The settings of a server; {@link #build()} checks them. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int tcpPort = 7070;
        private int webSocketPort = 7071;
        private String webSocketPath = "/rsocket";
        private int maxFrameSize = MAX_FRAME_SIZE;
        private int maxStreamsPerConnection = 256;
        private Duration keepAliveTimeout = Duration.ofSeconds(120);
        private Duration setupTimeout = Duration.ofSeconds(10);
        private Path tokensFile;
        private Path tlsCertificate;
        private Path tlsPrivateKey;
        private ProjectionDirectory projections = ProjectionDirectory.NONE;
        private Replication replication;
        private java.time.Duration minHeadWait = java.time.Duration.ofSeconds(10);

        private Builder() {
        }

        public Builder host(String value) {
            host = Objects.requireNonNull(value, "host");
            return this;
        }

        public Builder tcpPort(int port) {
            tcpPort = port;
            return this;
        }

        public Builder webSocketPort(int port) {
            webSocketPort = port;
            return this;
        }

        public Builder webSocketPath(String path) {
            webSocketPath = Objects.requireNonNull(path, "webSocketPath");
            return this;
        }

        public Builder maxFrameSize(int bytes) {
            maxFrameSize = bytes;
            return this;
        }

        public Builder maxStreamsPerConnection(int streams) {
            maxStreamsPerConnection = streams;
            return this;
        }

        public Builder keepAliveTimeout(Duration timeout) {
            keepAliveTimeout = Objects.requireNonNull(timeout, "keepAliveTimeout");
            return this;
        }

        public Builder setupTimeout(Duration timeout) {
            setupTimeout = Objects.requireNonNull(timeout, "setupTimeout");
            return this;
        }

        /** Require a bearer token from every connection (null: none required). */
        public Builder tokensFile(Path file) {
            tokensFile = file;
            return this;
        }

        /** Serve TLS with this PEM certificate and PEM PKCS#8 key (both null: plain). */
        public Builder tls(Path certificate, Path privateKey) {
            tlsCertificate = certificate;
            tlsPrivateKey = privateKey;
            return this;
        }

        public Builder projections(ProjectionDirectory directory) {
            projections = Objects.requireNonNull(directory, "projections");
            return this;
        }

        /** Makes the server a cluster node: its writes go through {@code r}. */
        public Builder replication(Replication r) {
            replication = r;
            return this;
        }

        public Builder minHeadWait(java.time.Duration wait) {
            minHeadWait = Objects.requireNonNull(wait, "minHeadWait");
            return this;
        }

        public ServerSettings build() {
            require(tcpPort >= 0 && tcpPort <= 65535, "tcpPort " + tcpPort + " is not a port (0 picks a free one)");
            require(webSocketPort >= 0 && webSocketPort <= 65535, "webSocketPort " + webSocketPort + " is not a port (0 picks a free one)");
            require(tcpPort == 0 || tcpPort != webSocketPort, "tcpPort and webSocketPort are both " + tcpPort + "; give them different ports");
            require(webSocketPath.startsWith("/"), "webSocketPath '" + webSocketPath + "' must start with '/'");
            require(maxFrameSize >= 64 * 1024 && maxFrameSize <= MAX_FRAME_SIZE, "maxFrameSize " + maxFrameSize
                + " must be between 65536 and " + MAX_FRAME_SIZE + " (RSocket's 24-bit frame length)");
            require(maxStreamsPerConnection > 0, "maxStreamsPerConnection " + maxStreamsPerConnection + " must be positive");
            require(keepAliveTimeout.toMillis() >= 1000, "keepAliveTimeout " + keepAliveTimeout + " must be at least one second");
            require(setupTimeout.toMillis() > 0, "setupTimeout " + setupTimeout + " must be positive");
            require((tlsCertificate == null) == (tlsPrivateKey == null),
                "TLS needs both a certificate and a private key; give both or neither");
            if (tlsCertificate != null) {
                require(Files.isReadable(tlsCertificate), "the TLS certificate " + tlsCertificate + " cannot be read");
                require(Files.isReadable(tlsPrivateKey), "the TLS private key " + tlsPrivateKey + " cannot be read");
            }
            TokenFile tokens = tokensFile == null ? null : TokenFile.load(tokensFile);
            return new ServerSettings(this, tokens);
        }

        private static void require(boolean condition, String sentence) {
            if (!condition) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, sentence);
            }
        }
    }
}
