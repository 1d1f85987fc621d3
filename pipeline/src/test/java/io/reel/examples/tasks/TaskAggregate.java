package io.reel.examples.tasks;

import com.google.protobuf.Message;
import io.reel.aggregate.Aggregate;
import io.reel.aggregate.Decision;
import io.reel.aggregate.EventTypes;
import io.reel.aggregate.StateCodec;
import io.reel.examples.tasks.TaskCommand.CancelTask;
import io.reel.examples.tasks.TaskCommand.CompleteTask;
import io.reel.examples.tasks.TaskCommand.ScheduleTask;
import io.reel.examples.tasks.TaskCommand.StartTask;
import io.reel.examples.tasks.TaskState.Status;
import io.reel.examples.tasks.proto.TaskCancelled;
import io.reel.examples.tasks.proto.TaskCompleted;
import io.reel.examples.tasks.proto.TaskScheduled;
import io.reel.examples.tasks.proto.TaskStarted;

/**
 * The example domain: task scheduling. One aggregate per task, in the stream {@code task-<task id>}; its
 * events are the messages of {@code tasks.proto}, typed by message name.
 *
 * <p>Invariants: a task is scheduled once; only a scheduled task can be started; a task that was not started
 * cannot be completed; a cancelled task cannot be started or completed; a completed task cannot be cancelled.
 * Cancelling a cancelled task is accepted and changes nothing.
 */
public final class TaskAggregate implements Aggregate<TaskState, TaskCommand> {
    private static final EventTypes EVENTS = EventTypes.of(TaskScheduled.getDefaultInstance(), TaskStarted.getDefaultInstance(),
        TaskCompleted.getDefaultInstance(), TaskCancelled.getDefaultInstance());
    private static final StateCodec<TaskState> CODEC = StateCodec.of(1, TaskState::encode, TaskState::decode);

    @Override
    public String name() {
        return "task";
    }

    @Override
    public EventTypes eventTypes() {
        return EVENTS;
    }

    @Override
    public TaskState initial(String id) {
        return TaskState.none(id);
    }

    @Override
    public Decision decide(TaskState task, TaskCommand command) {
        String id = task.taskId();
        Status status = task.status();
        if (command instanceof ScheduleTask c) {
            if (status != Status.NONE) {
                return Decision.reject("task " + id + " is already scheduled (it is " + status + "); a task cannot be scheduled twice");
            }
            if (c.title().isBlank()) {
                return Decision.reject("task " + id + " needs a title");
            }
            return Decision.accept(TaskScheduled.newBuilder().setTaskId(id).setInvestigator(c.investigator()).setTitle(c.title())
                .setDueEpochDay(c.due().toEpochDay()).build());
        }
        if (status == Status.NONE) {
            return Decision.reject("task " + id + " was never scheduled; schedule it first");
        }
        if (command instanceof StartTask c) {
            return switch (status) {
                case SCHEDULED -> Decision.accept(TaskStarted.newBuilder().setTaskId(id).setStartedBy(c.startedBy()).build());
                case CANCELLED -> Decision.reject("task " + id + " was cancelled (" + task.cancelReason() + "), so it cannot be started");
                default -> Decision.reject("task " + id + " is already " + status + "; it can be started once");
            };
        }
        if (command instanceof CompleteTask c) {
            return switch (status) {
                case STARTED -> Decision.accept(TaskCompleted.newBuilder().setTaskId(id).setOutcome(c.outcome()).build());
                case SCHEDULED -> Decision.reject("task " + id + " was not started, so it cannot be completed; start it first");
                case CANCELLED -> Decision.reject("task " + id + " was cancelled, so it cannot be completed");
                default -> Decision.reject("task " + id + " is already completed");
            };
        }
        CancelTask c = (CancelTask) command;
        return switch (status) {
            case COMPLETED -> Decision.reject("task " + id + " is already completed; a completed task cannot be cancelled");
            case CANCELLED -> Decision.accept();
            default -> Decision.accept(TaskCancelled.newBuilder().setTaskId(id).setReason(c.reason()).build());
        };
    }

    @Override
    public TaskState evolve(TaskState task, Message event) {
        if (event instanceof TaskScheduled e) {
            return task.scheduled(e.getInvestigator(), e.getTitle(), e.getDueEpochDay());
        }
        if (event instanceof TaskStarted e) {
            return task.started(e.getStartedBy());
        }
        if (event instanceof TaskCompleted e) {
            return task.completed(e.getOutcome());
        }
        return task.cancelled(((TaskCancelled) event).getReason());
    }

    @Override
    public StateCodec<TaskState> stateCodec() {
        return CODEC;
    }
}
