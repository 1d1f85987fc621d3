package io.reel.examples.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.EventStore;
import io.reel.transport.ReelServer;
import io.reel.transport.ServerSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

/** The README's client example runs as written against a real server on 127.0.0.1. */
@Timeout(60)
@ResourceLock(Resources.SYSTEM_OUT)
class ClientAppTest {
    @TempDir
    Path dir;

    @Test
    void theExampleAppendsReadsAndCatchesUpOverRSocket() {
        try (EventStore store = EventStore.open(dir);
             ReelServer server = ReelServer.start(store, ServerSettings.builder().tcpPort(0).webSocketPort(0).build())) {
            String out = run("127.0.0.1", String.valueOf(server.tcpAddress().getPort()));
            assertThat(out).contains("appended at positions 0..1", "order-42@0 OrderPlaced {\"total\": 12}",
                "order-42@1 OrderPaid {\"card\": \"visa\"}", "$all 1 order-42 OrderPaid", "caught up at position 2");
        }
    }

    private static String run(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            ClientApp.main(args);
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
