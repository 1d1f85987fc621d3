package io.reel.examples.tasks;

import java.time.LocalDate;
import java.util.Objects;

/** What a principal investigator (or a lab member) asks of a task. The task's id is the aggregate id. */
public sealed interface TaskCommand {
    /** Puts a new task on the schedule. */
    record ScheduleTask(String investigator, String title, LocalDate due) implements TaskCommand {
        public ScheduleTask {
            Objects.requireNonNull(investigator, "investigator");
            Objects.requireNonNull(title, "title");
            Objects.requireNonNull(due, "due");
        }
    }

    /** Someone starts working on the task. */
    record StartTask(String startedBy) implements TaskCommand {
        public StartTask {
            Objects.requireNonNull(startedBy, "startedBy");
        }
    }

    /** The task is done, with what came out of it. */
    record CompleteTask(String outcome) implements TaskCommand {
        public CompleteTask {
            Objects.requireNonNull(outcome, "outcome");
        }
    }

    /** The task is called off. */
    record CancelTask(String reason) implements TaskCommand {
        public CancelTask {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
