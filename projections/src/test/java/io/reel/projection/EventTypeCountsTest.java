package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.aggregate.StateCodec;
import io.reel.projection.ProjectionStatus.Phase;
import io.reel.store.EventStore;
import io.reel.store.StreamMetadata;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EventTypeCountsTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void itsStateIsExactlyTheCountsJsonOverTheWholeLog() {
        try (EventStore store = Stores.open(dir, new SimpleMeterRegistry()); Projections projections = Projections.embedded(store)) {
            ProjectionRunner<EventTypeCounts> runner = projections.start(EventTypeCounts.projection());
            await().atMost(WAIT).until(() -> runner.status().phase() == Phase.RUNNING);
            ProjectionState empty = projections.state(EventTypeCounts.NAME).block(WAIT);
            assertThat(new String(empty.state(), StandardCharsets.UTF_8)).isEqualTo("{\"counts\": {}}");
            assertThat(empty.contentType()).isEqualTo("application/json");
            assertThat(empty.position()).isZero();

            Stores.append(store, "task-1", "TaskScheduled", 3);
            Stores.append(store, "task-1", "TaskStarted", 1);
            Stores.append(store, "order-\"q\"", "Odd \"type\"", 2);
            store.setStreamMetadata("task-1", StreamMetadata.NONE).block(WAIT);
            await().atMost(WAIT).until(() -> runner.status().position() == store.headPosition());

            ProjectionState state = projections.state(EventTypeCounts.NAME).block(WAIT);
            assertThat(new String(state.state(), StandardCharsets.UTF_8))
                .isEqualTo("{\"counts\": {\"$metadata\": 1, \"Odd \\\"type\\\"\": 2, \"TaskScheduled\": 3, \"TaskStarted\": 1}}");
            assertThat(state.position()).isEqualTo(7);
            assertThat(runner.query(EventTypeCounts::total).block()).isEqualTo(7);
            assertThat(runner.query(c -> c.count("TaskScheduled")).block()).isEqualTo(3);
            assertThat(runner.query(c -> c.count("Never")).block()).isZero();
        }
    }

    @Test
    void aRestartedEventTypesProjectionContinuesFromItsSavedCounts() {
        try (EventStore store = Stores.open(dir, new SimpleMeterRegistry())) {
            Stores.append(store, "a", "A", 5);
            try (Projections projections = Projections.embedded(store)) {
                ProjectionRunner<EventTypeCounts> runner = projections.start(EventTypeCounts.projection());
                await().atMost(WAIT).until(() -> runner.status().position() == 5);
            }
            Stores.append(store, "b", "B", 2);
            try (Projections projections = Projections.embedded(store)) {
                ProjectionRunner<EventTypeCounts> runner = projections.start(EventTypeCounts.projection());
                await().atMost(WAIT).until(() -> runner.status().position() == 7);
                assertThat(new String(projections.state(EventTypeCounts.NAME).block(WAIT).state(), StandardCharsets.UTF_8))
                    .isEqualTo("{\"counts\": {\"A\": 5, \"B\": 2}}");
            }
        }
    }

    @Test
    void decodeInvertsEncode() {
        StateCodec<EventTypeCounts> codec = EventTypeCounts.projection().codec();
        byte[] json = "{\"counts\": {\"A\": 5, \"B\": 2}}".getBytes(StandardCharsets.UTF_8);
        EventTypeCounts decoded = codec.decode(json);
        assertThat(decoded.total()).isEqualTo(7);
        assertThat(codec.encode(decoded)).isEqualTo(json);
    }
}
