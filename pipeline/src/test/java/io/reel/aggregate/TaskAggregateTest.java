package io.reel.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.examples.tasks.TaskAggregate;
import io.reel.examples.tasks.TaskCommand;
import io.reel.examples.tasks.TaskCommand.CancelTask;
import io.reel.examples.tasks.TaskCommand.CompleteTask;
import io.reel.examples.tasks.TaskCommand.ScheduleTask;
import io.reel.examples.tasks.TaskCommand.StartTask;
import io.reel.examples.tasks.TaskState;
import io.reel.examples.tasks.TaskState.Status;
import io.reel.examples.tasks.proto.TaskScheduled;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.RecordedEvent;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The example domain, end to end on a real store: the invariants and what lands in the log. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TaskAggregateTest {
    private static final LocalDate DUE = LocalDate.of(2026, 3, 1);

    @TempDir
    Path dir;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    EventStore store;
    AggregateRepository<TaskState, TaskCommand> tasks;

    @BeforeEach
    void open() {
        store = TestStores.open(dir, registry);
        tasks = AggregateRepository.create(store, new TaskAggregate());
    }

    @AfterEach
    void close() {
        store.close();
    }

    private CommandResult<TaskState> handle(String id, TaskCommand command) {
        return tasks.handle(id, command).block(TestStores.WAIT);
    }

    @Test
    void aTaskIsScheduledStartedAndCompleted() {
        CommandResult<TaskState> scheduled = handle("42", new ScheduleTask("dr-ada", "Calibrate the microscope", DUE));
        assertThat(scheduled).isInstanceOf(CommandResult.Accepted.class);
        assertThat(scheduled.revision()).isZero();
        assertThat(scheduled.state().status()).isEqualTo(Status.SCHEDULED);
        assertThat(((CommandResult.Accepted<TaskState>) scheduled).events()).singleElement()
            .isEqualTo(TaskScheduled.newBuilder().setTaskId("42").setInvestigator("dr-ada").setTitle("Calibrate the microscope")
                .setDueEpochDay(DUE.toEpochDay()).build());

        assertThat(handle("42", new StartTask("bo")).revision()).isEqualTo(1);
        CommandResult<TaskState> completed = handle("42", new CompleteTask("calibrated to 0.1 um"));
        assertThat(completed.revision()).isEqualTo(2);
        assertThat(completed.state()).isEqualTo(new TaskState("42", Status.COMPLETED, "dr-ada", "Calibrate the microscope",
            DUE.toEpochDay(), "bo", "calibrated to 0.1 um", ""));
        assertThat(((CommandResult.Accepted<TaskState>) completed).position()).isEqualTo(store.headPosition() - 1);

        List<RecordedEvent> events = TestStores.events(store, "task-42");
        assertThat(events).extracting(RecordedEvent::type).containsExactly("TaskScheduled", "TaskStarted", "TaskCompleted");
        assertThat(events).extracting(RecordedEvent::contentType).containsOnly(EventData.PROTOBUF);
        assertThat(tasks.state("42").block(TestStores.WAIT)).isEqualTo(completed.state());
    }

    @Test
    void rejectionsCarryTheAggregatesReasonAndWriteNothing() {
        assertRejected("1", new StartTask("bo"), "was never scheduled");
        handle("1", new ScheduleTask("dr-ada", "Sequence sample 7", DUE));
        assertRejected("1", new CompleteTask("done"), "was not started, so it cannot be completed");
        assertRejected("1", new ScheduleTask("dr-ada", "again", DUE), "cannot be scheduled twice");
        handle("1", new CancelTask("sample lost"));
        assertRejected("1", new StartTask("bo"), "was cancelled (sample lost), so it cannot be started");
        assertRejected("1", new CompleteTask("done"), "was cancelled");
        handle("2", new ScheduleTask("dr-ada", "Order reagents", DUE));
        handle("2", new StartTask("bo"));
        handle("2", new CompleteTask("ordered"));
        assertRejected("2", new CancelTask("too late"), "a completed task cannot be cancelled");
        assertRejected("3", new ScheduleTask("dr-ada", " ", DUE), "needs a title");
        assertThat(TestStores.counter(registry, "reel.aggregate.commands", "aggregate", "task", "outcome", "rejected")).isEqualTo(7);
    }

    private void assertRejected(String id, TaskCommand command, String reason) {
        long head = store.headPosition();
        long revisionBefore = TestStores.events(store, "task-" + id).size() - 1;
        CommandResult<TaskState> result = handle(id, command);
        assertThat(result).isInstanceOf(CommandResult.Rejected.class);
        assertThat(((CommandResult.Rejected<TaskState>) result).reason()).contains(reason);
        assertThat(result.revision()).isEqualTo(revisionBefore);
        assertThat(store.headPosition()).as("a rejection writes nothing").isEqualTo(head);
    }

    @Test
    void cancellingACancelledTaskIsAcceptedAndWritesNothing() {
        handle("5", new ScheduleTask("dr-ada", "Book the cryo-EM", DUE));
        handle("5", new CancelTask("instrument down"));
        long head = store.headPosition();
        CommandResult<TaskState> again = handle("5", new CancelTask("still down"));
        assertThat(again).isInstanceOf(CommandResult.Accepted.class);
        assertThat(((CommandResult.Accepted<TaskState>) again).events()).isEmpty();
        assertThat(((CommandResult.Accepted<TaskState>) again).position()).isEqualTo(-1);
        assertThat(again.revision()).isEqualTo(1);
        assertThat(again.state().cancelReason()).isEqualTo("instrument down");
        assertThat(store.headPosition()).isEqualTo(head);
    }

    @Test
    void aFreshRepositoryRebuildsTasksFromTheLog() {
        handle("7", new ScheduleTask("dr-ada", "Run the gel", DUE));
        handle("7", new StartTask("bo"));
        TaskState cached = tasks.state("7").block(TestStores.WAIT);
        AggregateRepository<TaskState, TaskCommand> fresh = AggregateRepository.create(store, new TaskAggregate());
        assertThat(fresh.state("7").block(TestStores.WAIT)).isEqualTo(cached);
        assertThat(fresh.state("never").block(TestStores.WAIT)).isEqualTo(TaskState.none("never"));
    }
}
