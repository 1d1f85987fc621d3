package io.reel.aggregate;

import io.micrometer.core.instrument.MeterRegistry;
import io.reel.store.Direction;
import io.reel.store.EventStore;
import io.reel.store.RecordedEvent;
import io.reel.store.StoreSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;

/** Small real stores for the aggregate tests. */
final class TestStores {
    static final Duration WAIT = Duration.ofSeconds(20);

    private TestStores() {
    }

    static EventStore open(Path dir, MeterRegistry registry) {
        return EventStore.open(dir, StoreSettings.builder().segmentSize(1 << 20).maxEventSize(64 * 1024).meterRegistry(registry).build());
    }

    static List<RecordedEvent> events(EventStore store, String stream) {
        return store.readStream(stream, 0, 0, Direction.FORWARDS).collectList().block(WAIT);
    }

    /** Waits until the snapshotter has looked at everything durable now. */
    static void awaitCaughtUp(Snapshotter snapshotter, EventStore store) {
        long head = store.headPosition();
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> snapshotter.position() >= head);
    }

    static double counter(MeterRegistry registry, String name, String... tags) {
        return registry.counter(name, tags).count();
    }
}
