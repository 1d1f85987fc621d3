package io.reel.ops;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;

/** How the client verbs ({@code append}, {@code read}, {@code tail}) reach a server: shared flags, one connection. */
final class ClientOptions {
    @Option(names = "--server", paramLabel = "HOST:PORT[,HOST:PORT…]", defaultValue = "127.0.0.1:7070",
        description = "The server's RSocket address: its TCP port, or its WebSocket port with --ws (default: ${DEFAULT-VALUE}). "
            + "For a cluster, list its nodes: the client moves to the next one when it loses a connection.")
    String server;

    @Option(names = "--ws", description = "Connect over WebSocket (path /rsocket) instead of TCP.")
    boolean webSocket;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:REEL_TOKEN}",
        description = "Bearer token, when the server has a tokens file (default: $REEL_TOKEN).")
    String token;

    @Option(names = "--tls", description = "Connect with TLS.")
    boolean tls;

    @Option(names = "--trust", paramLabel = "PEM", description = "With --tls: trust this certificate (e.g. the server's self-signed one).")
    Path trust;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
        description = "How long to wait for the server's answer, reconnecting included (default: ${DEFAULT-VALUE}); raise it for a busy server.")
    int timeoutSeconds;

    /** Connects and checks the connection ({@code IO_ERROR} when the server cannot be reached, {@code UNAUTHORIZED} for a bad token). */
    ReelClient connect() {
        ClientSettings settings = settings();
        return explained(() -> ReelClient.connect(settings).block());
    }

    /** A client that connects on its first call: a verb that makes one call then makes one round trip. */
    ReelClient open() {
        return ReelClient.create(settings());
    }

    /** The answer of a call, or its failure, with a timeout explained in this command line's terms. */
    <T> T explained(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (ReelException e) {
            throw explain(e);
        }
    }

    /** How long a verb blocks for a call at most: past the client's own timeout, which fails it first. */
    Duration blockLimit() {
        return Duration.ofSeconds(3L * timeoutSeconds + 5);
    }

    /**
     * {@code items}, failing with {@code IO_ERROR} when the server sends none for {@code --timeout}. ReelClient resumes a
     * read across lost connections for as long as it is subscribed (its caller decides when to give up), so a verb that
     * waited for the end of a read from a server that went away mid-way waited forever, though {@code --timeout}
     * promises to cover reconnecting. The limit is on progress, not on the whole read: a long read goes on as long as
     * events keep coming, and the time the verb spends printing an event (a slow pipe) does not count.
     */
    <T> Flux<T> progressing(Flux<T> items, String what) {
        return items.timeout(Duration.ofSeconds(timeoutSeconds), Flux.error(() -> new ReelException(ErrorCode.IO_ERROR, "the " + what
            + " from " + server + " stopped: nothing came for " + timeoutSeconds + " s (--timeout); the server stopped, cannot be"
            + " reached, or is too busy to answer in time: check it and run the command again, or raise --timeout (e.g. --timeout "
            + Math.max(30, 3 * timeoutSeconds) + ")", new java.util.concurrent.TimeoutException())));
    }

    private ReelException explain(ReelException e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.util.concurrent.TimeoutException) {
                return new ReelException(ErrorCode.IO_ERROR, "no answer from " + server + " within " + timeoutSeconds + " s (--timeout):"
                    + " the server is not running, cannot be reached, or is too busy to answer in time; check it, or raise --timeout"
                    + " (e.g. --timeout " + Math.max(30, 3 * timeoutSeconds) + ")", e);
            }
        }
        return e;
    }

    private ClientSettings settings() {
        if (timeoutSeconds <= 0) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "--timeout " + timeoutSeconds + " is not a number of seconds above 0");
        }
        for (String s : server.split(",")) {
            int colon = s.lastIndexOf(':');
            int port;
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (RuntimeException e) {
                port = -1;
            }
            if (colon <= 0 || port <= 0 || port > 65535) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "--server '" + s + "' is not HOST:PORT, e.g. 127.0.0.1:7070"
                    + " (a cluster's nodes: HOST:PORT,HOST:PORT,...)");
            }
        }
        return ClientSettings.builder()
            .servers(server)
            .transport(webSocket ? ClientSettings.Transport.WEBSOCKET : ClientSettings.Transport.TCP)
            .token(token == null || token.isBlank() ? null : token)
            .tls(tls, trust)
            .requestTimeout(Duration.ofSeconds(timeoutSeconds))
            .build();
    }
}
