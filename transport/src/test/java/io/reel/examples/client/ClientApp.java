package io.reel.examples.client;

import io.reel.store.Direction;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A complete application that talks to a running {@code reel server} (dependency {@code io.reel:reel-transport}):
 * connects over RSocket, appends, reads a stream back and follows {@code $all} until it has caught up. The
 * README shows this file; {@code ClientAppTest} compiles it and runs it against a real server.
 *
 * <pre>java -cp ... io.reel.examples.client.ClientApp 127.0.0.1 7070 [TOKEN]</pre>
 */
public final class ClientApp {
    private ClientApp() {
    }

    public static void main(String[] args) {
        ClientSettings.Builder settings = ClientSettings.builder()
            .host(args.length > 0 ? args[0] : "127.0.0.1")
            .port(args.length > 1 ? Integer.parseInt(args[1]) : 7070);
        if (args.length > 2) {
            settings.token(args[2]);                              // when the server runs with --tokens
        }
        try (ReelClient client = ReelClient.connect(settings.build()).block(Duration.ofSeconds(10))) {
            var result = client.append("order-42", ExpectedRevision.ANY,
                EventData.json("OrderPlaced", "{\"total\": 12}"),
                EventData.json("OrderPaid", "{\"card\": \"visa\"}")).block(Duration.ofSeconds(10));
            System.out.println("appended at positions " + result.firstPosition() + ".." + result.lastPosition());

            for (RecordedEvent e : client.readStream("order-42", 0, 0, Direction.FORWARDS).toIterable()) {
                System.out.println("order-42@" + e.revision() + " " + e.type() + " " + new String(e.data(), StandardCharsets.UTF_8));
            }

            SubscriptionMessage caughtUp = client.subscribe(SubscribeOptions.fromStart())
                .doOnNext(m -> {
                    if (m instanceof SubscriptionMessage.Event e) {
                        System.out.println("$all " + e.event().position() + " " + e.event().stream() + " " + e.event().type());
                    }
                })
                .filter(m -> m instanceof SubscriptionMessage.CaughtUp)
                .blockFirst(Duration.ofSeconds(10));
            System.out.println("caught up at position " + caughtUp.nextPosition());
        }
    }
}
