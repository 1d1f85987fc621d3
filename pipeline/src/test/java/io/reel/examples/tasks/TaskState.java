package io.reel.examples.tasks;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A task as its events left it. Immutable.
 *
 * @param dueEpochDay the due date as days since 1970-01-01 (0 before the task is scheduled)
 */
public record TaskState(String taskId, Status status, String investigator, String title, long dueEpochDay, String startedBy,
                        String outcome, String cancelReason) {
    /** Where a task is in its life: NONE → SCHEDULED → STARTED → COMPLETED, or CANCELLED before it completes. */
    public enum Status { NONE, SCHEDULED, STARTED, COMPLETED, CANCELLED }

    /** The task {@code taskId} before anything happened to it. */
    public static TaskState none(String taskId) {
        return new TaskState(taskId, Status.NONE, "", "", 0, "", "", "");
    }


    TaskState scheduled(String newInvestigator, String newTitle, long newDueEpochDay) {
        return new TaskState(taskId, Status.SCHEDULED, newInvestigator, newTitle, newDueEpochDay, "", "", "");
    }

    TaskState started(String by) {
        return new TaskState(taskId, Status.STARTED, investigator, title, dueEpochDay, by, "", "");
    }

    TaskState completed(String withOutcome) {
        return new TaskState(taskId, Status.COMPLETED, investigator, title, dueEpochDay, startedBy, withOutcome, "");
    }

    TaskState cancelled(String reason) {
        return new TaskState(taskId, Status.CANCELLED, investigator, title, dueEpochDay, startedBy, "", reason);
    }

    /** The snapshot encoding, schema version 1: the fields in order, strings as modified UTF-8. */
    static byte[] encode(TaskState s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(s.taskId);
            out.writeByte(s.status.ordinal());
            out.writeUTF(s.investigator);
            out.writeUTF(s.title);
            out.writeLong(s.dueEpochDay);
            out.writeUTF(s.startedBy);
            out.writeUTF(s.outcome);
            out.writeUTF(s.cancelReason);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static TaskState decode(byte[] b) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
            TaskState s = new TaskState(in.readUTF(), Status.values()[in.readUnsignedByte()], in.readUTF(), in.readUTF(), in.readLong(),
                in.readUTF(), in.readUTF(), in.readUTF());
            if (in.available() != 0) {
                throw new IllegalArgumentException(in.available() + " bytes left after a task state");
            }
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
