package io.reel.examples.embedded;

import io.reel.store.Direction;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A complete application that embeds Reel (dependency {@code io.reel:reel-pipeline}): opens a store in a
 * directory, appends to a stream, reads it back and follows {@code $all} until it has caught up. The README
 * shows this file; {@code EmbeddedAppTest} compiles and runs it.
 *
 * <pre>java -cp ... io.reel.examples.embedded.EmbeddedApp ./reel-data</pre>
 */
public final class EmbeddedApp {
    private EmbeddedApp() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "reel-data");
        try (EventStore store = EventStore.open(dir)) {
            store.append("order-42", ExpectedRevision.ANY,
                EventData.json("OrderPlaced", "{\"total\": 12}"),
                EventData.json("OrderPaid", "{\"card\": \"visa\"}")).block(Duration.ofSeconds(10));   // durable when it completes

            for (RecordedEvent e : store.readStream("order-42", 0, 0, Direction.FORWARDS).toIterable()) {
                System.out.println("order-42@" + e.revision() + " " + e.type() + " " + new String(e.data(), StandardCharsets.UTF_8));
            }

            SubscriptionMessage caughtUp = store.subscribe(SubscribeOptions.fromStart())
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
