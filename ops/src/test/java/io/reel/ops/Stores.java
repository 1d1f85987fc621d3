package io.reel.ops;

import io.reel.store.Direction;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Small helpers on a real store for the tests. */
final class Stores {
    private Stores() {
    }

    /** Appends {@code count} JSON events, {@code perAppend} at a time, to {@code stream}; returns the head after. */
    static long append(EventStore store, String stream, int count, int perAppend) {
        for (int done = 0; done < count; ) {
            int n = Math.min(perAppend, count - done);
            List<EventData> events = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                events.add(EventData.json("Ticked", "{\"n\":" + (done + i) + "}"));
            }
            store.append(stream, ExpectedRevision.ANY, events).block(Duration.ofSeconds(30));
            done += n;
        }
        return store.headPosition();
    }

    static List<RecordedEvent> readAll(EventStore store) {
        return store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).collectList().block(Duration.ofSeconds(60));
    }
}
