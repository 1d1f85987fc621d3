package io.reel.store;

/**
 * Stable error codes. Every error Reel reports, embedded or over the wire, starts with one of these
 * followed by a colon and a sentence: {@code "WRONG_EXPECTED_VERSION: stream 'order-7' is at revision 4, the append expected 2"}.
 * Foreign clients match on the code, people read the sentence.
 */
public enum ErrorCode {
    /** The stream is not at the revision the append or delete expected; nothing was written. */
    WRONG_EXPECTED_VERSION,
    /** The stream was hard-deleted and can never be written again. */
    STREAM_DELETED,
    /** A request field is malformed, out of range or inconsistent; the message names the field. */
    INVALID_ARGUMENT,
    /** An event or an append exceeds a configured limit; the message names the limit and the value. */
    TOO_LARGE,
    /** Missing or insufficient credentials. */
    UNAUTHORIZED,
    /** The store is momentarily saturated (the writer's queue is full); retrying later is safe. */
    OVERLOADED,
    /** An unknown route, projection, subscription or group. */
    NOT_FOUND,
    /** The disk is full: writes stop, reads and subscriptions go on, writes resume when space is freed. */
    STORAGE_FULL,
    /** An I/O error stopped writes; reads and subscriptions go on. */
    IO_ERROR,
    /** Acknowledged data on disk is damaged; the message names file, offset and position. */
    CORRUPTED,
    /** Another process (or another store in this process) owns the data directory. */
    LOCKED,
    /** The store has been closed. */
    CLOSED,
    /**
     * Retryable: the server cannot take the request now (a cluster without a leader or without a quorum);
     * an append that gets it may or may not have been written, and retrying it with the same event ids is safe.
     */
    UNAVAILABLE,
    /**
     * Retryable elsewhere: this cluster node is not the leader, and the request runs on the leader only (joining a
     * consumer group, replaying its parked events); the sentence names the leader's address when it is known.
     * {@code ReelClient} moves to the leader by itself.
     */
    NOT_LEADER,
    /** An unexpected internal failure: a bug in Reel, please report it with the message. */
    INTERNAL
}
