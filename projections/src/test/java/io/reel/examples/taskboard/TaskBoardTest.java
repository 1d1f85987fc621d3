package io.reel.examples.taskboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.examples.taskboard.TaskBoard.Status;
import io.reel.examples.taskboard.TaskBoard.Task;
import io.reel.examples.tasks.proto.TaskCancelled;
import io.reel.examples.tasks.proto.TaskCompleted;
import io.reel.examples.tasks.proto.TaskScheduled;
import io.reel.examples.tasks.proto.TaskStarted;
import io.reel.projection.ProjectionRunner;
import io.reel.projection.ProjectionStatus.Phase;
import io.reel.projection.Projections;
import io.reel.store.Durability;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TaskBoardTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    EventStore store;
    Projections projections;

    @BeforeEach
    void open() {
        store = EventStore.open(dir, StoreSettings.builder().segmentSize(4 << 20).maxEventSize(64 * 1024)
            .durability(Durability.batched(Duration.ofMillis(5))).meterRegistry(new SimpleMeterRegistry()).build());
        projections = Projections.embedded(store);
    }

    @AfterEach
    void close() {
        projections.close();
        store.close();
    }

    private void schedule(String id, String investigator, String title, long due) {
        store.append("task-" + id, ExpectedRevision.NO_STREAM, EventData.of("TaskScheduled", TaskScheduled.newBuilder()
            .setTaskId(id).setInvestigator(investigator).setTitle(title).setDueEpochDay(due).build())).block(WAIT);
    }

    private void start(String id) {
        store.append("task-" + id, ExpectedRevision.ANY, EventData.of("TaskStarted",
            TaskStarted.newBuilder().setTaskId(id).setStartedBy("tech").build())).block(WAIT);
    }

    private void complete(String id) {
        store.append("task-" + id, ExpectedRevision.ANY, EventData.of("TaskCompleted",
            TaskCompleted.newBuilder().setTaskId(id).setOutcome("ok").build())).block(WAIT);
    }

    private void cancel(String id) {
        store.append("task-" + id, ExpectedRevision.ANY, EventData.of("TaskCancelled",
            TaskCancelled.newBuilder().setTaskId(id).setReason("no funding").build())).block(WAIT);
    }

    private void awaitCaughtUp(ProjectionRunner<?> runner) {
        await().atMost(WAIT).until(() -> runner.status().phase() == Phase.RUNNING && runner.status().position() == store.headPosition());
    }

    @Test
    void groupsTasksByInvestigatorAndStatus() {
        schedule("t1", "alice", "Calibrate", 20100);
        schedule("t2", "alice", "Sequence", 20101);
        schedule("t3", "bob", "Assay", 20102);
        schedule("t4", "alice", "Review", 20103);
        schedule("t5", "bob", "Order reagents", 20104);
        start("t1");
        complete("t1");
        start("t2");
        cancel("t3");
        store.append("order-9", ExpectedRevision.ANY, EventData.json("TaskScheduled", "{\"not\": \"a task\"}")).block(WAIT);

        ProjectionRunner<TaskBoard> runner = projections.start(TaskBoard.projection());
        awaitCaughtUp(runner);
        Map<Status, List<Task>> alice = runner.query(board -> board.tasksOf("alice")).block(WAIT);
        assertThat(alice.get(Status.SCHEDULED)).extracting(Task::id).containsExactly("t4");
        assertThat(alice.get(Status.STARTED)).extracting(Task::id).containsExactly("t2");
        assertThat(alice.get(Status.COMPLETED)).containsExactly(new Task("t1", "alice", "Calibrate", 20100, Status.COMPLETED));
        assertThat(alice.get(Status.CANCELLED)).isEmpty();
        assertThat(runner.query(board -> board.countsOf("bob")).block(WAIT))
            .containsExactly(Map.entry(Status.SCHEDULED, 1), Map.entry(Status.STARTED, 0), Map.entry(Status.COMPLETED, 0),
                Map.entry(Status.CANCELLED, 1));
        assertThat(runner.query(board -> board.byInvestigator().keySet()).block(WAIT)).containsExactly("alice", "bob");
        assertThat(runner.query(TaskBoard::size).block(WAIT)).isEqualTo(5);

        String json = new String(projections.state(TaskBoard.NAME).block(WAIT).state(), StandardCharsets.UTF_8);
        assertThat(json).isEqualTo("{\"investigators\": {"
            + "\"alice\": {\"scheduled\": [{\"id\": \"t4\", \"title\": \"Review\", \"due_epoch_day\": 20103}], "
            + "\"started\": [{\"id\": \"t2\", \"title\": \"Sequence\", \"due_epoch_day\": 20101}], "
            + "\"completed\": [{\"id\": \"t1\", \"title\": \"Calibrate\", \"due_epoch_day\": 20100}], \"cancelled\": []}, "
            + "\"bob\": {\"scheduled\": [{\"id\": \"t5\", \"title\": \"Order reagents\", \"due_epoch_day\": 20104}], "
            + "\"started\": [], \"completed\": [], "
            + "\"cancelled\": [{\"id\": \"t3\", \"title\": \"Assay\", \"due_epoch_day\": 20102}]}}}");

        start("t4");
        awaitCaughtUp(runner);
        assertThat(runner.query(board -> board.task("t4").map(Task::status)).block(WAIT)).contains(Status.STARTED);
    }

    @Test
    void aRestartedBoardDecodesItsSavedStateAndGoesOn() {
        schedule("t1", "carol", "Write up", 20200);
        ProjectionRunner<TaskBoard> first = projections.start(TaskBoard.projection());
        awaitCaughtUp(first);
        projections.stop(TaskBoard.NAME);

        start("t1");
        ProjectionRunner<TaskBoard> second = projections.start(TaskBoard.projection());
        awaitCaughtUp(second);
        assertThat(second.query(board -> board.task("t1")).block(WAIT))
            .contains(new Task("t1", "carol", "Write up", 20200, Status.STARTED));
    }

    @Test
    void anEventForATaskNeverScheduledStopsTheBoardWithTheReason() {
        start("ghost");
        ProjectionRunner<TaskBoard> runner = projections.start(TaskBoard.projection());
        await().atMost(WAIT).until(() -> runner.status().phase() == Phase.FAILED);
        assertThat(runner.status().error()).contains("TaskStarted for task 'ghost', which was never scheduled (stream task-ghost)");
    }
}
