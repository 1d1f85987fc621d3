package io.reel.examples.taskboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.examples.tasks.proto.TaskScheduled;
import io.reel.projection.Projection;
import io.reel.projection.ProjectionRunner;
import io.reel.projection.ProjectionState;
import io.reel.projection.ProjectionStatus;
import io.reel.projection.Projections;
import io.reel.aggregate.StateCodec;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The example of docs/projections.md and of {@link Projection}'s javadoc, as written there. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DocsExampleTest {
    @TempDir
    Path dir;

    @Test
    void theDocumentedExampleWorksAsShown() {
        Projection<Map<String, Long>> scheduledPerInvestigator =
            Projection.<Map<String, Long>>builder("scheduled-per-investigator", TreeMap::new)
                .on("TaskScheduled", TaskScheduled.parser(), (counts, scheduled, event) -> {
                    counts.merge(scheduled.getInvestigator(), 1L, Long::sum);
                    return counts;
                })
                .codec(StateCodec.json(counts -> counts, json -> {
                    Map<String, Long> counts = new TreeMap<>();
                    ((Map<?, ?>) json).forEach((k, v) -> counts.put((String) k, (Long) v));
                    return counts;
                }))
                .build();

        try (EventStore store = EventStore.open(dir.resolve("reel-data"), StoreSettings.builder().segmentSize(4 << 20)
                 .maxEventSize(64 * 1024).build());
             Projections projections = Projections.embedded(store)) {
            for (String[] task : new String[][] {{"1", "alice"}, {"2", "bob"}, {"3", "alice"}}) {
                store.append("task-" + task[0], ExpectedRevision.NO_STREAM, EventData.of("TaskScheduled",
                    TaskScheduled.newBuilder().setTaskId(task[0]).setInvestigator(task[1]).build())).block();
            }
            ProjectionRunner<Map<String, Long>> runner = projections.start(scheduledPerInvestigator);
            await().atMost(Duration.ofSeconds(20)).until(() -> runner.status().position() == 3
                && runner.status().phase() == ProjectionStatus.Phase.RUNNING);
            long alice = runner.query(counts -> counts.getOrDefault("alice", 0L)).block();
            ProjectionState wire = projections.state("scheduled-per-investigator").block();
            assertThat(alice).isEqualTo(2);
            assertThat(new String(wire.state(), StandardCharsets.UTF_8)).isEqualTo("{\"alice\": 2, \"bob\": 1}");
            assertThat(wire.contentType()).isEqualTo("application/json");
            assertThat(projections.list()).extracting(ProjectionStatus::name).containsExactly("scheduled-per-investigator");
        }
    }
}
