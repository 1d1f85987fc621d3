package io.reel.examples.taskboard;

import io.reel.examples.tasks.proto.TaskCancelled;
import io.reel.examples.tasks.proto.TaskCompleted;
import io.reel.examples.tasks.proto.TaskScheduled;
import io.reel.examples.tasks.proto.TaskStarted;
import io.reel.projection.Projection;
import io.reel.projection.ProjectionRunner;
import io.reel.aggregate.StateCodec;
import io.reel.store.EventFilter;
import io.reel.store.RecordedEvent;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The task board of the example domain (task scheduling, {@code tasks.proto}): every task, grouped by
 * investigator and by status. Built by the {@value #NAME} projection from the events of the {@code task-<id>}
 * streams: {@code TaskScheduled} puts a task on its investigator's board, {@code TaskStarted},
 * {@code TaskCompleted} and {@code TaskCancelled} move it. An event for a task that was never scheduled is a
 * handler failure (the projection's {@link io.reel.projection.FailurePolicy} decides).
 *
 * <p>Its state over the wire ({@code application/json}): investigators in name order, each with the four
 * statuses, each a list of tasks in id order:
 * <pre>{@code
 * {"investigators": {"alice": {"scheduled": [{"id": "t1", "title": "Calibrate", "due_epoch_day": 20100}],
 *   "started": [], "completed": [], "cancelled": []}}}
 * }</pre>
 * Mutated only by its projection, on the projection's thread: read it through {@link ProjectionRunner#query}.
 */
public final class TaskBoard {
    /** The projection's name. */
    public static final String NAME = "task-board";

    /** Where a task is. */
    public enum Status {
        SCHEDULED, STARTED, COMPLETED, CANCELLED;

        String jsonName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One task as the board shows it. */
    public record Task(String id, String investigator, String title, long dueEpochDay, Status status) {
        Task withStatus(Status newStatus) {
            return new Task(id, investigator, title, dueEpochDay, newStatus);
        }
    }

    private static final Projection<TaskBoard> PROJECTION = Projection.builder(NAME, TaskBoard::new)
        .on("TaskScheduled", TaskScheduled.parser(), (board, e, event) -> board.put(
            new Task(e.getTaskId(), e.getInvestigator(), e.getTitle(), e.getDueEpochDay(), Status.SCHEDULED)))
        .on("TaskStarted", TaskStarted.parser(), (board, e, event) -> board.move(e.getTaskId(), Status.STARTED, event))
        .on("TaskCompleted", TaskCompleted.parser(), (board, e, event) -> board.move(e.getTaskId(), Status.COMPLETED, event))
        .on("TaskCancelled", TaskCancelled.parser(), (board, e, event) -> board.move(e.getTaskId(), Status.CANCELLED, event))
        .filter(EventFilter.builder().streamPrefix("task-")
            .eventTypes(List.of("TaskScheduled", "TaskStarted", "TaskCompleted", "TaskCancelled")).build())
        .codec(StateCodec.json(TaskBoard::toJson, TaskBoard::fromJson))
        .build();

    private final Map<String, Task> tasks = new HashMap<>();
    private final SortedMap<String, Map<Status, SortedMap<String, Task>>> columnsByInvestigator = new TreeMap<>();

    private TaskBoard() {
    }

    /** The {@value #NAME} projection. */
    public static Projection<TaskBoard> projection() {
        return PROJECTION;
    }

    public Optional<Task> task(String id) {
        return Optional.ofNullable(tasks.get(id));
    }

    /** Tasks on the board. */
    public int size() {
        return tasks.size();
    }

    /** Every investigator's tasks by status (all four statuses, lists in task id order), as a copy. */
    public SortedMap<String, Map<Status, List<Task>>> byInvestigator() {
        SortedMap<String, Map<Status, List<Task>>> copy = new TreeMap<>();
        columnsByInvestigator.forEach((investigator, columns) -> copy.put(investigator, copyOf(columns)));
        return copy;
    }

    /** One investigator's tasks by status (all four statuses; empty lists for an unknown investigator), as a copy. */
    public Map<Status, List<Task>> tasksOf(String investigator) {
        Map<Status, SortedMap<String, Task>> columns = columnsByInvestigator.get(investigator);
        return columns == null ? copyOf(emptyColumns()) : copyOf(columns);
    }

    /** How many tasks one investigator has in each status. */
    public Map<Status, Integer> countsOf(String investigator) {
        Map<Status, Integer> counts = new EnumMap<>(Status.class);
        Map<Status, SortedMap<String, Task>> columns = columnsByInvestigator.get(investigator);
        for (Status s : Status.values()) {
            counts.put(s, columns == null ? 0 : columns.get(s).size());
        }
        return counts;
    }

    private static Map<Status, SortedMap<String, Task>> emptyColumns() {
        Map<Status, SortedMap<String, Task>> columns = new EnumMap<>(Status.class);
        for (Status s : Status.values()) {
            columns.put(s, new TreeMap<>());
        }
        return columns;
    }

    private static Map<Status, List<Task>> copyOf(Map<Status, SortedMap<String, Task>> columns) {
        Map<Status, List<Task>> copy = new EnumMap<>(Status.class);
        columns.forEach((status, byId) -> copy.put(status, new ArrayList<>(byId.values())));
        return copy;
    }

    private TaskBoard put(Task task) {
        Task old = tasks.put(task.id(), task);
        if (old != null) {
            columnsByInvestigator.get(old.investigator()).get(old.status()).remove(old.id());
        }
        columnsByInvestigator.computeIfAbsent(task.investigator(), i -> emptyColumns()).get(task.status()).put(task.id(), task);
        return this;
    }

    private TaskBoard move(String taskId, Status status, RecordedEvent event) {
        Task task = tasks.get(taskId);
        if (task == null) {
            throw new IllegalStateException(event.type() + " for task '" + taskId + "', which was never scheduled (stream "
                + event.stream() + ")");
        }
        return put(task.withStatus(status));
    }

    private static Object toJson(TaskBoard board) {
        Map<String, Object> investigators = new LinkedHashMap<>();
        board.columnsByInvestigator.forEach((investigator, columns) -> {
            Map<String, Object> byStatus = new LinkedHashMap<>();
            columns.forEach((status, byId) -> {
                List<Object> items = new ArrayList<>(byId.size());
                for (Task t : byId.values()) {
                    Map<String, Object> item = new LinkedHashMap<>();
                    item.put("id", t.id());
                    item.put("title", t.title());
                    item.put("due_epoch_day", t.dueEpochDay());
                    items.add(item);
                }
                byStatus.put(status.jsonName(), items);
            });
            investigators.put(investigator, byStatus);
        });
        return Map.of("investigators", investigators);
    }

    private static TaskBoard fromJson(Object json) {
        TaskBoard board = new TaskBoard();
        Map<?, ?> investigators = (Map<?, ?>) ((Map<?, ?>) json).get("investigators");
        investigators.forEach((investigator, columns) -> {
            for (Status status : Status.values()) {
                for (Object o : (List<?>) ((Map<?, ?>) columns).get(status.jsonName())) {
                    Map<?, ?> item = (Map<?, ?>) o;
                    board.put(new Task((String) item.get("id"), (String) investigator, (String) item.get("title"),
                        (Long) item.get("due_epoch_day"), status));
                }
            }
        });
        return board;
    }

    @Override
    public String toString() {
        return "TaskBoard" + byInvestigator();
    }
}
