package io.reel.ops;

import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

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

    /** Connects and checks the connection ({@code IO_ERROR} when the server cannot be reached, {@code UNAUTHORIZED} for a bad token). */
    ReelClient connect() {
        ClientSettings settings = ClientSettings.builder()
            .servers(server)
            .transport(webSocket ? ClientSettings.Transport.WEBSOCKET : ClientSettings.Transport.TCP)
            .token(token == null || token.isBlank() ? null : token)
            .tls(tls, trust)
            .requestTimeout(Duration.ofSeconds(10))
            .build();
        return ReelClient.connect(settings).block();
    }
}
