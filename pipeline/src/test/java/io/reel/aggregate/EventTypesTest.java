package io.reel.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import com.google.protobuf.Message;
import com.google.protobuf.StringValue;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.examples.tasks.TaskAggregate;
import io.reel.examples.tasks.TaskCommand;
import io.reel.examples.tasks.TaskState;
import io.reel.examples.tasks.TaskState.Status;
import io.reel.examples.tasks.proto.TaskCancelled;
import io.reel.examples.tasks.proto.TaskCompleted;
import io.reel.examples.tasks.proto.TaskScheduled;
import io.reel.examples.tasks.proto.TaskStarted;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Event typing, versions and upcasting, alone and through a repository on a real store. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EventTypesTest {
    @TempDir
    Path dir;

    /** Tasks whose older history had a {@code TaskCreated} event (a bare title) and a version 1 of {@code TaskStarted}. */
    static final EventTypes EVOLVED = EventTypes.builder()
        .add(TaskScheduled.getDefaultInstance())
        .add("TaskStarted", TaskStarted.getDefaultInstance(), 2)
        .add(TaskCompleted.getDefaultInstance())
        .add(TaskCancelled.getDefaultInstance())
        .upcast("TaskCreated", stored -> TaskScheduled.newBuilder()
            .setTitle(StringValue.parseFrom(stored.dataBuffer()).getValue()).setInvestigator("unknown").build())
        .upcast("TaskStarted", 1, stored -> TaskStarted.newBuilder()
            .setStartedBy(StringValue.parseFrom(stored.dataBuffer()).getValue()).build())
        .upcast("TaskNoted", stored -> null)
        .build();

    @Test
    void oldTypesAndVersionsAreUpcastAtReadTime() {
        try (EventStore store = TestStores.open(dir, new SimpleMeterRegistry())) {
            store.append("task-old", ExpectedRevision.NO_STREAM,
                raw("TaskCreated", EventData.PROTOBUF, StringValue.of("Stain the sections")),
                raw("TaskNoted", EventData.PROTOBUF, StringValue.of("a note nobody reads any more")),
                raw("TaskStarted", EventData.PROTOBUF, StringValue.of("bo"))).block(TestStores.WAIT);
            AggregateRepository<TaskState, TaskCommand> tasks = AggregateRepository.create(store, evolved());

            TaskState state = tasks.state("old").block(TestStores.WAIT);
            assertThat(state.status()).isEqualTo(Status.STARTED);
            assertThat(state.title()).isEqualTo("Stain the sections");
            assertThat(state.startedBy()).isEqualTo("bo");

            CommandResult<TaskState> done = tasks.handle("old", new TaskCommand.CompleteTask("stained")).block(TestStores.WAIT);
            assertThat(done.revision()).isEqualTo(3);

            tasks.handle("new", new TaskCommand.ScheduleTask("dr-ada", "Fix the samples", java.time.LocalDate.of(2026, 2, 2)))
                .block(TestStores.WAIT);
            tasks.handle("new", new TaskCommand.StartTask("cy")).block(TestStores.WAIT);
            List<RecordedEvent> written = TestStores.events(store, "task-new");
            assertThat(written.get(1).contentType()).isEqualTo("application/x-protobuf;version=2");
            AggregateRepository<TaskState, TaskCommand> fresh = AggregateRepository.create(store, evolved());
            assertThat(fresh.state("new").block(TestStores.WAIT).startedBy()).as("version 2 is read as itself, not upcast").isEqualTo("cy");
        }
    }

    @Test
    void contentTypeVersionsParse() {
        assertThat(EventTypes.versionOf("application/x-protobuf")).isEqualTo(1);
        assertThat(EventTypes.versionOf("application/x-protobuf;version=2")).isEqualTo(2);
        assertThat(EventTypes.versionOf("application/x-protobuf; Version=17")).isEqualTo(17);
    }

    @Test
    void writingAnUnregisteredMessageFailsWithInvalidArgument() {
        EventTypes types = EventTypes.of(TaskScheduled.getDefaultInstance());
        assertThat(types.typeOf(TaskScheduled.getDefaultInstance())).isEqualTo("TaskScheduled");
        assertThatThrownBy(() -> types.encode(Int64Value.of(1))).isInstanceOf(ReelException.class)
            .hasMessageStartingWith("INVALID_ARGUMENT: event message google.protobuf.Int64Value is not registered");
        EventData encoded = types.encode(TaskScheduled.newBuilder().setTaskId("1").build());
        assertThat(encoded.type()).isEqualTo("TaskScheduled");
        assertThat(encoded.contentType()).isEqualTo(EventData.PROTOBUF);
        assertThat(encoded.eventId()).isNotNull();
    }

    @Test
    void clashingRegistrationsAreRefused() {
        assertThatThrownBy(() -> EventTypes.builder().add(TaskStarted.getDefaultInstance()).add(TaskStarted.getDefaultInstance()))
            .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EventTypes.builder().add(TaskStarted.getDefaultInstance()).add("TaskStarted", Int64Value.getDefaultInstance()))
            .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EventTypes.builder().add(TaskStarted.getDefaultInstance()).upcast("TaskStarted", s -> null).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("older forms only");
    }

    private static EventData raw(String type, String contentType, Message data) {
        return EventData.of(UUID.randomUUID(), type, contentType, data.toByteArray(), null);
    }

    private static Aggregate<TaskState, TaskCommand> evolved() {
        TaskAggregate tasks = new TaskAggregate();
        return new Aggregate<>() {
            @Override
            public String name() {
                return tasks.name();
            }

            @Override
            public EventTypes eventTypes() {
                return EVOLVED;
            }

            @Override
            public TaskState initial(String id) {
                return tasks.initial(id);
            }

            @Override
            public Decision decide(TaskState state, TaskCommand command) {
                return tasks.decide(state, command);
            }

            @Override
            public TaskState evolve(TaskState state, Message event) {
                return tasks.evolve(state, event);
            }
        };
    }
}
