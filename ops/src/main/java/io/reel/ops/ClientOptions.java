package io.reel.ops;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** How the client verbs ({@code append}, {@code read}, {@code tail}) reach a server: shared flags, one connection. */
final class ClientOptions {
    @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7070",
        description = "The server's RSocket address: its TCP port, or its WebSocket port with --ws (default: ${DEFAULT-VALUE}).")
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

    /** Connects and checks the connection ({@code IO_ERROR} when the server cannot be reached, {@code UNAUTHORIZED} for a bad token). */
    ReelClient connect() {
        int colon = server.lastIndexOf(':');
        int port;
        try {
            port = Integer.parseInt(server.substring(colon + 1));
        } catch (RuntimeException e) {
            port = -1;
        }
        if (colon <= 0 || port <= 0 || port > 65535) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "--server '" + server + "' is not HOST:PORT, e.g. 127.0.0.1:7070");
        }
        ClientSettings settings = ClientSettings.builder()
            .host(server.substring(0, colon))
            .port(port)
            .transport(webSocket ? ClientSettings.Transport.WEBSOCKET : ClientSettings.Transport.TCP)
            .token(token == null || token.isBlank() ? null : token)
            .tls(tls, trust)
            .requestTimeout(Duration.ofSeconds(10))
            .build();
        return ReelClient.connect(settings).block();
    }
}
