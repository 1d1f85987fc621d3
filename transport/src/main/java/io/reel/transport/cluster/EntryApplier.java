package io.reel.transport.cluster;

import io.reel.proto.AppendBatchResult;
import io.reel.proto.AppendOutcome;
import io.reel.proto.AppendRequest;
import io.reel.proto.ClusterEntry;
import io.reel.proto.ClusterWrite;
import io.reel.proto.DeleteStreamRequest;
import io.reel.store.AppendResult;
import io.reel.store.Direction;
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
 * {@link ApplyClock} while the entry is written), and the next entry is not started before the last one is
 * written, so the writer's queue never overflows and no outcome depends on timing.
 *
 * <p><b>After a restart</b> the store may hold records of entries Raft replays again (the store forces its
 * log on its own schedule, the last applied index is recorded with snapshots). Re-deciding such an entry
 * against a later state could write what the first run rejected, so while the store's head is ahead of
 * {@code cursor}, a replayed write is matched against the records at the cursor instead: a write whose events
 * are there was written the first time and is skipped over; one whose events are not was rejected (or was a
 * retry) the first time and is skipped. Once the cursor reaches the head, writes are applied again.
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
     * @param index the entry's Raft index: a group change is applied once per (index, write), also across restarts
     */
    AppendBatchResult apply(ClusterEntry entry, long index) {
        AppendBatchResult.Builder result = AppendBatchResult.newBuilder();
        List<ClusterWrite> writes = entry.getWritesList();
        int next = 0;
        long head = store.headPosition();
        stamp = Math.max(stamp, entry.getTimestampMicros());
        while (next < writes.size() && cursor < head) {
            ClusterWrite w = writes.get(next++);
            result.addOutcomes(w.getWriteCase() == ClusterWrite.WriteCase.GROUP ? applyGroup(w, cursor, sequence(index, next - 1)) : replayed(w, head));
        }
        if (next == writes.size()) {
            return result.build();
        }
        if (cursor > head) {
            throw new ReelException(ErrorCode.CORRUPTED, "the store's head " + head + " is behind the position " + cursor
                + " the applied entries reached: its log lost records that Raft no longer holds; wipe this node's data"
                + " directory and let it rejoin from the others");
        }
        List<CompletableFuture<AppendResult>> pending = new ArrayList<>(writes.size() - next);
        clock.hold(stamp);
        try {
            for (int i = next; i < writes.size(); i++) {
                ClusterWrite w = writes.get(i);
                if (w.getWriteCase() == ClusterWrite.WriteCase.GROUP) {
                    // a group change sees the writes before it: they are written first (a group created at the end starts after them)
                    for (CompletableFuture<AppendResult> p : pending) {
                        result.addOutcomes(await(p));
                    }
                    pending.clear();
                    result.addOutcomes(applyGroup(w, store.headPosition(), sequence(index, i)));
                } else {
                    pending.add(submit(w).toFuture());
                }
            }
            for (CompletableFuture<AppendResult> p : pending) {
                result.addOutcomes(await(p));
            }
        } finally {
            clock.release();
        }
        cursor = store.headPosition();
        return result.build();
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

    /** A write the store may already hold (see the class comment): skips over its records, or over nothing. */
    private AppendOutcome replayed(ClusterWrite w, long head) {
        int count = switch (w.getWriteCase()) {
            case APPEND -> w.getAppend().getEventsCount();
            case SET_METADATA, DELETE -> 1;
            case GROUP, WRITE_NOT_SET -> 0;
        };
        if (count == 0 || cursor + count > head) {
            return notRepeated();
        }
        List<RecordedEvent> there = store.readAll(cursor, count, Direction.FORWARDS, EventFilter.none()).collectList()
            .block(WRITE_TIMEOUT);
        if (there == null || there.size() != count || !matches(w, there)) {
            return notRepeated();
        }
        RecordedEvent last = there.get(count - 1);
        AppendResult r = new AppendResult(cursor, last.position(), last.revision());
        cursor += count;
        return Writes.outcome(r);
    }

    private static boolean matches(ClusterWrite w, List<RecordedEvent> there) {
        if (w.getWriteCase() == ClusterWrite.WriteCase.APPEND) {
            AppendRequest r = w.getAppend();
            for (int i = 0; i < there.size(); i++) {
                RecordedEvent e = there.get(i);
                if (!e.stream().equals(r.getStream()) || !e.eventId().toString().equals(r.getEvents(i).getEventId())) {
                    return false;
                }
            }
            return true;
        }
        String stream = w.getWriteCase() == ClusterWrite.WriteCase.DELETE ? w.getDelete().getStream() : w.getSetMetadata().getStream();
        return there.get(0).stream().equals("$$" + stream);
    }

    private static AppendOutcome notRepeated() {
        return Writes.outcome(new ReelException(ErrorCode.UNAVAILABLE,
            "this write was decided before the node restarted; retry it with the same event ids to learn its result"));
    }
}
