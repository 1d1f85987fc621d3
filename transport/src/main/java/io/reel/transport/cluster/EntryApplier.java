package io.reel.transport.cluster;

import io.reel.proto.AppendBatchResult;
import io.reel.proto.AppendOutcome;
import io.reel.proto.AppendRequest;
import io.reel.proto.ClusterEntry;
import io.reel.proto.ClusterWrite;
import io.reel.proto.DeleteStreamRequest;
import io.reel.store.AppendResult;
import io.reel.store.Direction;
import io.reel.store.EntryOrigin;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;

/**
 * Applies committed cluster entries to a node's store, one entry at a time, in the order of the Raft log:
 * the part of the state machine that knows nothing of Ratis (and is what the determinism property feeds).
 *
 * <p>Every write of an entry goes through the store's own writer, so it meets the same rules as a
 * standalone append (expected revision, event-id idempotency, limits). Given the same entries in the same
 * order, every replica writes the same records at the same positions with the same bytes: event ids come
 * with the entry, the stamp is the largest entry stamp so far (held on the store's
 * {@link ApplyClock} while the entry is written), each frame records the {@link EntryOrigin} of its write
 * (the entry's term and index, the write's place in it), and the next entry is not started before the last
 * one is written, so the writer's queue never overflows and no outcome depends on timing.
 *
 * <p><b>After a restart</b> the store may hold records of entries Raft replays again (the store forces its
 * log on its own schedule, the last applied index is recorded with snapshots). Deciding such an entry again
 * against a later state could write what the first run rejected, so while the store's head is ahead of
 * {@code cursor}, a replayed entry is read back instead: the frames at the cursor whose origin is the entry
 * are the writes it wrote, which are skipped over and answered from their records; the writes it has no frame
 * for were rejected and are not repeated. Only when the entry's frames end at the head (the crash may have
 * come before its later writes were decided) are the writes after its last frame decided again: against the
 * same state as the first time, since nothing after them was written.
 *
 * <p>Not thread-safe: Ratis applies entries from one thread.
 */
final class EntryApplier {
    private static final Duration WRITE_TIMEOUT = Duration.ofMinutes(1);

    private final EventStore store;
    private final ApplyClock clock;
    /** The position where the records of the next entry start; behind the store's head only while replaying. */
    private long cursor;
    /**
     * The largest entry stamp applied so far, written or not. Entries are stamped with at least this, so stamps
     * never go back: a writer batch that an entry joins while the previous one's rejected writes are being
     * answered then carries the same stamp on every replica.
     */
    private long stamp;

    /**
     * @param appliedHead one past the last position the entries applied before (as a snapshot recorded it)
     * @param stamp       the largest entry stamp applied before (as a snapshot recorded it)
     */
    EntryApplier(EventStore store, ApplyClock clock, long appliedHead, long stamp) {
        this.store = store;
        this.clock = clock;
        this.cursor = appliedHead;
        this.stamp = stamp;
    }

    /** The largest entry stamp applied so far (a snapshot records it). */
    long stamp() {
        return stamp;
    }

    /** One past the last position the entries applied so far have written. */
    long appliedHead() {
        return cursor;
    }

    /**
     * Applies one committed entry; the outcomes answer its writes, in order. Blocks until they are written.
     *
     * @param term  the entry's Raft term
     * @param index the entry's Raft index: a group change is applied once per (index, write), also across restarts
     */
    AppendBatchResult apply(ClusterEntry entry, long term, long index) {
        AppendBatchResult.Builder result = AppendBatchResult.newBuilder();
        List<ClusterWrite> writes = entry.getWritesList();
        long head = store.headPosition();
        stamp = Math.max(stamp, entry.getTimestampMicros());
        if (cursor > head) {
            throw new ReelException(ErrorCode.CORRUPTED, "the store's head " + head + " is behind the position " + cursor
                + " the applied entries reached: its log lost records that Raft no longer holds; wipe this node's data"
                + " directory and let it rejoin from the others");
        }
        int next = cursor < head ? replay(writes, index, head, result) : 0;
        if (next == writes.size()) {
            return result.build();
        }
        List<CompletableFuture<AppendResult>> pending = new ArrayList<>(writes.size() - next);
        clock.hold(stamp);
        try {
            int i = next;
            while (i < writes.size()) {
                if (writes.get(i).getWriteCase() == ClusterWrite.WriteCase.GROUP) {
                    // a group change sees the writes before it: they are written first (a group created at the end starts after them)
                    awaitAll(pending, result, index);
                    pending.clear();
                    result.addOutcomes(applyGroup(writes.get(i), store.headPosition(), sequence(index, i)));
                    i++;
                } else {
                    int from = i;
                    while (i < writes.size() && writes.get(i).getWriteCase() != ClusterWrite.WriteCase.GROUP) {
                        i++;
                    }
                    int to = i;
                    // one group commit for the run, not its first few writes alone (the applied entry waits for all of them)
                    store.together(() -> {
                        for (int k = from; k < to; k++) {
                            clock.submitting(new EntryOrigin(term, index, k));
                            pending.add(submit(writes.get(k)).toFuture());
                        }
                    });
                }
            }
            awaitAll(pending, result, index);
        } finally {
            clock.release();
        }
        cursor = store.headPosition();
        return result.build();
    }

    /**
     * Reads back an entry the store may hold already (see the class comment): answers its writes from the
     * frames at the cursor whose origin is {@code index} and moves the cursor past them. Returns how many of the
     * writes were decided the first time; the others are to be applied.
     */
    private int replay(List<ClusterWrite> writes, long index, long head, AppendBatchResult.Builder result) {
        long total = 0;
        for (ClusterWrite w : writes) {
            total += records(w);
        }
        List<RecordedEvent> there = store.readAll(cursor, Math.min(total + 1, head - cursor), Direction.FORWARDS, EventFilter.none())
            .collectList().block(WRITE_TIMEOUT);
        // the last record of each write of this entry that has a frame (a frame is a run of records with one origin)
        java.util.Map<Integer, RecordedEvent> written = new java.util.HashMap<>();
        int lastWritten = -1;
        boolean followed = false;
        for (RecordedEvent r : there == null ? List.<RecordedEvent>of() : there) {
            EntryOrigin origin = r.origin();
            if (origin != null && origin.index() > index) {
                followed = true;
                break;
            }
            if (origin == null || origin.index() < index || origin.write() >= writes.size() || origin.write() < lastWritten) {
                throw new ReelException(ErrorCode.CORRUPTED, "the record at position " + r.position() + " was not written by entry " + index
                    + " or a later one (its origin: " + origin + "): this node's log is not the cluster's; wipe its data directory and let"
                    + " it rejoin from the others");
            }
            written.put(origin.write(), r);
            lastWritten = origin.write();
        }
        long position = cursor;
        for (int i = 0; i < writes.size(); i++) {
            ClusterWrite w = writes.get(i);
            RecordedEvent last = written.get(i);
            if (last == null && i > lastWritten && !followed && position == head) {
                // the entry's frames end at the head: this write and the ones after it may never have been decided
                cursor = position;
                return i;
            }
            if (w.getWriteCase() == ClusterWrite.WriteCase.GROUP) {
                result.addOutcomes(applyGroup(w, position, sequence(index, i)));
            } else if (last != null) {
                long end = Math.max(position + records(w), last.position() + 1);
                result.addOutcomes(Writes.outcome(new AppendResult(end - records(w), end - 1, last.revision())));
                position = end;
            } else {
                result.addOutcomes(notRepeated());
            }
        }
        cursor = position;
        return writes.size();
    }

    /** The records a write makes when it is written. */
    private static long records(ClusterWrite w) {
        return switch (w.getWriteCase()) {
            case APPEND -> w.getAppend().getEventsCount();
            case SET_METADATA, DELETE -> 1;
            case GROUP, WRITE_NOT_SET -> 0;
        };
    }

    /**
     * A consumer group change, applied to this node's group files (and the leader's running groups); its outcome is
     * decided by the group changes applied before alone, so it is the same on every replica. The group files are
     * forced as each change is applied, so after a restart the changes Raft replays are skipped by their sequence
     * ({@link #sequence}): deciding one again against a later state could accept what was rejected the first time.
     */
    private AppendOutcome applyGroup(ClusterWrite w, long head, long sequence) {
        try {
            store.groups().apply(w.getGroup(), head, sequence);
            return AppendOutcome.newBuilder().setResult(io.reel.proto.AppendResult.getDefaultInstance()).build();
        } catch (ReelException e) {
            if (e.code() == ErrorCode.IO_ERROR || e.code() == ErrorCode.STORAGE_FULL || e.code() == ErrorCode.CLOSED) {
                throw e;
            }
            return Writes.outcome(e);
        } catch (java.io.UncheckedIOException e) {
            throw new ReelException(ErrorCode.IO_ERROR, "cannot apply a group change: " + e.getMessage(), e);
        } catch (RuntimeException malformed) {
            return Writes.outcome(new ReelException(ErrorCode.INVALID_ARGUMENT, "a malformed group change in a cluster entry: " + malformed));
        }
    }

    /** A group change's place in the Raft log: its entry's index and its write's place in the entry (below 1024). */
    static long sequence(long index, int write) {
        return (index << 10) | write;
    }

    private Mono<AppendResult> submit(ClusterWrite w) {
        try {
            return switch (w.getWriteCase()) {
                case APPEND -> {
                    AppendRequest r = w.getAppend();
                    yield store.append(r.getStream(), Writes.expected(r.getExpectedCase() == AppendRequest.ExpectedCase.REVISION,
                        r.getRevision(), r.getExpectation()), Writes.events(r));
                }
                case SET_METADATA -> store.setStreamMetadata(w.getSetMetadata().getStream(), Writes.metadata(w.getSetMetadata()));
                case DELETE -> {
                    DeleteStreamRequest r = w.getDelete();
                    yield store.deleteStream(r.getStream(), Writes.expected(r.getExpectedCase() == DeleteStreamRequest.ExpectedCase.REVISION,
                        r.getRevision(), r.getExpectation()), r.getHard());
                }
                case GROUP, WRITE_NOT_SET -> Mono.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "an empty write in a cluster entry"));
            };
        } catch (RuntimeException malformed) {
            return Mono.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "a malformed write in a cluster entry: " + malformed));
        }
    }

    /**
     * The outcomes of an entry's submitted writes, in order. When one could not be written (disk full, I/O error) the
     * entry is applied again later, which is right only if none after it was written: its frames must be a prefix of
     * its writes, as a replay reads them. So the others are waited for first, and a later one that was written (the
     * writer went on after the failure) leaves this replica with a log the others do not have: it stops with
     * {@code CORRUPTED} rather than diverge.
     */
    private static void awaitAll(List<CompletableFuture<AppendResult>> pending, AppendBatchResult.Builder result, long index) {
        for (int i = 0; i < pending.size(); i++) {
            try {
                result.addOutcomes(await(pending.get(i)));
            } catch (ReelException failed) {
                for (int j = i + 1; j < pending.size(); j++) {
                    AppendResult later;
                    try {
                        later = pending.get(j).get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (ExecutionException rejected) {
                        continue;
                    } catch (TimeoutException | InterruptedException stuck) {
                        throw new ReelException(ErrorCode.CORRUPTED, "write " + j + " of entry " + index + " neither completed nor failed"
                            + " after write " + i + " failed (" + failed.sentence() + "); stopping this node rather than let its log"
                            + " differ from the others: restart it, or wipe its data directory and let it rejoin", stuck);
                    }
                    if (later != null) {
                        throw new ReelException(ErrorCode.CORRUPTED, "write " + j + " of entry " + index + " was written at position "
                            + later.firstPosition() + " after write " + i + " failed (" + failed.sentence() + "): this node's log now"
                            + " differs from the others'; wipe its data directory and let it rejoin", failed);
                    }
                }
                throw failed;
            }
        }
    }

    private static AppendOutcome await(CompletableFuture<AppendResult> p) {
        try {
            return Writes.outcome(p.get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ReelException re && !deterministic(re.code())) {
                // the store could not write (disk full, I/O error, closing): going on would leave this replica
                // without records the others have; stop applying instead, Ratis keeps the entry
                throw new ReelException(re.code(), "cannot apply a committed entry: " + re.sentence(), re);
            }
            return Writes.outcome(cause);
        } catch (TimeoutException e) {
            throw new ReelException(ErrorCode.IO_ERROR, "the store did not write a committed entry within " + WRITE_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReelException(ErrorCode.CLOSED, "interrupted while applying an entry", e);
        }
    }

    /** Outcomes that the same entry on the same log always gets, on every replica. */
    private static boolean deterministic(ErrorCode code) {
        return switch (code) {
            case WRONG_EXPECTED_VERSION, STREAM_DELETED, INVALID_ARGUMENT, TOO_LARGE -> true;
            default -> false;
        };
    }

    private static AppendOutcome notRepeated() {
        return Writes.outcome(new ReelException(ErrorCode.UNAVAILABLE,
            "this write was decided before the node restarted; retry it with the same event ids to learn its result"));
    }
}
