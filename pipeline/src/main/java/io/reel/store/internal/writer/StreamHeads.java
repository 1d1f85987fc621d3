package io.reel.store.internal.writer;

import io.reel.store.StreamMetadata;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the writer needs to know of every stream to check an append: its revision and its delete state.
 * Changes made while a batch is built are pending until the batch is durable, then committed, or rolled
 * back if the write fails. Writer thread only.
 */
public final class StreamHeads {
    private final Map<String, StreamHead> heads = new HashMap<>();
    private final List<StreamHead> touched = new ArrayList<>();
    /** Published truncation changes (deletes included); written by the writer alone, read by any thread. */
    private volatile long metadataChanges;
    /** Changes committed and not yet published: writer thread only. */
    private long unpublishedChanges;

    static final class StreamHead {
        final String stream;
        long revision = -1;
        StreamMetadata metadata = StreamMetadata.NONE;
        long pendingRevision = -1;
        StreamMetadata pendingMetadata = StreamMetadata.NONE;
        boolean touched;

        StreamHead(String stream) {
            this.stream = stream;
        }

        /** Soft-deleted and not written since: it reads as empty and takes NO_STREAM. */
        boolean pendingSoftDeleted() {
            return pendingMetadata.softDeleted() && pendingRevision < pendingMetadata.truncateBefore();
        }

        boolean pendingHardDeleted() {
            return pendingMetadata.hardDeleted();
        }
    }

    StreamHead get(String stream) {
        StreamHead head = heads.get(stream);
        if (head == null) {
            head = new StreamHead(stream);
            heads.put(stream, head);
        }
        return head;
    }

    /** The stream's committed state, set while the store opens. */
    public void load(String stream, long revision, StreamMetadata metadata) {
        StreamHead head = get(stream);
        head.revision = revision;
        head.pendingRevision = revision;
        head.metadata = metadata;
        head.pendingMetadata = metadata;
    }

    void touch(StreamHead head) {
        if (!head.touched) {
            head.touched = true;
            touched.add(head);
        }
    }

    void commit() {
        for (StreamHead head : touched) {
            head.revision = head.pendingRevision;
            if (head.metadata != head.pendingMetadata) {
                if (movesTruncation(head.metadata, head.pendingMetadata)) {
                    unpublishedChanges++;
                }
                head.metadata = head.pendingMetadata;
            }
            head.touched = false;
        }
        touched.clear();
    }

    /** Whether a stream going from {@code before} to {@code after} shows other events: a truncation or a delete. */
    private static boolean movesTruncation(StreamMetadata before, StreamMetadata after) {
        return before.truncateBefore() != after.truncateBefore() || before.softDeleted() != after.softDeleted()
            || before.hardDeleted() != after.hardDeleted();
    }

    /**
     * Makes the committed changes visible to {@link #metadataChanges()}: after the head that holds them is published
     * (a reader that sees the new count and then waits for the index to reach the head it reads finds the change)
     * and before they are acknowledged.
     */
    void publishChanges() {
        if (unpublishedChanges != 0) {
            metadataChanges += unpublishedChanges;   // the writer is the only writer of the field
            unpublishedChanges = 0;
        }
    }

    /**
     * How many changes of a stream's truncation point or deleted state have been committed since the store opened.
     * Moved after the change's head is published and before it is acknowledged, so a reader that sees the same count
     * as before saw no such change.
     */
    public long metadataChanges() {
        return metadataChanges;
    }

    void rollback() {
        for (StreamHead head : touched) {
            head.pendingRevision = head.revision;
            head.pendingMetadata = head.metadata;
            head.touched = false;
        }
        touched.clear();
    }

    int size() {
        return heads.size();
    }
}
