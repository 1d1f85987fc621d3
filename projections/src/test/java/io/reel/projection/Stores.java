package io.reel.projection;

import io.micrometer.core.instrument.MeterRegistry;
import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Real stores for tests: small segments, batched durability (the tests crash runners, not machines). */
final class Stores {
    private Stores() {
    }

    static EventStore open(Path dir, MeterRegistry meters) {
        return EventStore.open(dir, StoreSettings.builder().segmentSize(4 << 20).maxEventSize(64 * 1024).durability(Durability.batched(Duration.ofMillis(5)))
            .meterRegistry(meters).build());
    }

    /** Appends {@code count} events of {@code type} to {@code stream} in one append. */
    static void append(EventStore store, String stream, String type, int count) {
        List<EventData> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            events.add(EventData.json(type, "{\"i\": " + i + "}"));
        }
        store.append(stream, ExpectedRevision.ANY, events).block(Duration.ofSeconds(10));
    }

    /** Appends {@code count} events spread over {@code streams} streams, one append per stream. */
    static void appendSpread(EventStore store, String type, int count, int streams) {
        for (int s = 0; s < streams; s++) {
            int n = count / streams + (s < count % streams ? 1 : 0);
            if (n > 0) {
                append(store, "stream-" + s, type, n);
            }
        }
    }
}
