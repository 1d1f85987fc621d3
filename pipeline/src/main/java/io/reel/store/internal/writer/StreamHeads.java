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
    /** Committed metadata changes (deletes included); written by the writer alone, read by any thread. */
    private volatile long metadataChanges;

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
        long changes = 0;
        for (StreamHead head : touched) {
            head.revision = head.pendingRevision;
            if (head.metadata != head.pendingMetadata) {
                head.metadata = head.pendingMetadata;
                changes++;
            }
            head.touched = false;
        }
        touched.clear();
        if (changes != 0) {
            metadataChanges += changes;   // the writer is the only writer of the field
        }
    }

    /**
     * How many metadata changes (truncations and deletes among them) have been committed since the store opened.
     * Raised before the change is acknowledged, so a reader that sees the same count as before saw no change.
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
