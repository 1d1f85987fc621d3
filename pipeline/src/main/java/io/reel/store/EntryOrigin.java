package io.reel.store;

/**
 * Where a record of a replicated store comes from: the Raft term and index of the cluster entry whose apply
 * wrote it, and the place of the write in that entry. Every replica writes the same origin into the same
 * frame, so after a restart a node reads from its own log exactly which writes of a replayed entry it had
 * written ({@link RecordedEvent#origin()}).
 *
 * @param term  the Raft term of the entry
 * @param index the Raft index of the entry
 * @param write the place of the write in the entry (0 for its first)
 */
public record EntryOrigin(long term, long index, int write) {
    public EntryOrigin {
        if (term < 0 || index < 0 || write < 0) {
            throw new IllegalArgumentException("an entry origin is never negative: term " + term + ", index " + index + ", write " + write);
        }
    }
}
