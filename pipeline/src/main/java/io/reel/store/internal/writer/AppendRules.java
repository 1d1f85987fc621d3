package io.reel.store.internal.writer;

import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import java.util.List;
import java.util.UUID;
import java.util.function.LongFunction;

/**
 * The Writer's decisions, as pure functions of plain values: does an expected revision hold, does a command fit
 * in the batch and the segment, and is an append a repeat of one already written (event-id idempotency).
 * No I/O, no threads, no clock; {@link WriterStage} is the plumbing that gathers the values and acts on the answer.
 *
 * <p>{@link #expectationHolds} and {@link #fit} run for every command on the writer thread and allocate nothing.
 * {@link #repeatOf} runs only when a command's first event id is in the recent-ids window (a retry).
 */
final class AppendRules {
    private AppendRules() {
    }

    /** Where a command goes, given the bytes the batch already holds. */
    enum Fit {
        /** Into this batch, in the active segment. */
        FITS,
        /** Not into this batch: write the batch first, then take this command in the next one. */
        NEXT_BATCH,
        /** Not into the active segment, and the batch is empty: roll to a new segment and try again. */
        ROLL,
        /** Not even into an empty segment: reject it with {@code TOO_LARGE}. */
        TOO_LARGE
    }

    /**
     * Where a command of at most {@code commandBytes} goes when the active segment is written up to
     * {@code writeOffset}, the batch holds {@code batchBytes}, segments hold {@code segmentSize} bytes and start with
     * a header of {@code headerSize} bytes.
     */
    static Fit fit(long writeOffset, long batchBytes, long commandBytes, long segmentSize, long headerSize) {
        if (writeOffset + batchBytes + commandBytes <= segmentSize) {
            return Fit.FITS;
        }
        if (batchBytes > 0) {
            return Fit.NEXT_BATCH;
        }
        return writeOffset > headerSize ? Fit.ROLL : Fit.TOO_LARGE;
    }

    /**
     * Whether {@code expected} holds for a stream whose last revision is {@code revision} (-1: no event yet) and
     * that is soft-deleted or not. A soft-deleted stream counts as absent: it can be recreated.
     */
    static boolean expectationHolds(ExpectedRevision expected, long revision, boolean softDeleted) {
        return switch (expected.kind()) {
            case ANY -> true;
            case NO_STREAM -> revision < 0 || softDeleted;
            case STREAM_EXISTS -> revision >= 0 && !softDeleted;
            case EXACT -> revision == expected.revision();
        };
    }

    /** An event as written at a position; {@code inBatch} is its command while it is in the batch being built, else null. */
    record Written(UUID id, String stream, long revision, boolean endsAppend, AppendCommand inBatch) {
    }

    /** How an append compares with what was written from a position. */
    sealed interface Repeat permits NotARepeat, PartialRepeat, WholeRepeat {
    }

    /** The event at that position is not this append's first event: it is a new append. */
    record NotARepeat() implements Repeat {
    }

    /** Some of its events were written, but not as this exact append: reject it ({@code INVALID_ARGUMENT}). */
    record PartialRepeat() implements Repeat {
    }

    /** It repeats an earlier append exactly: answer with that append's result. */
    record WholeRepeat(Written first, Written last) implements Repeat {
    }

    private static final Repeat NOT_A_REPEAT = new NotARepeat();
    private static final Repeat PARTIAL_REPEAT = new PartialRepeat();

    /**
     * Compares an append of {@code events} to {@code stream} with the events written from {@code first}
     * ({@code writtenAt} answers null for a position with nothing known there). A repeat must be whole: the same ids,
     * in the same stream, starting an append and ending where the earlier append ended.
     */
    static Repeat repeatOf(List<EventData> events, String stream, long first, LongFunction<Written> writtenAt) {
        Written w0 = writtenAt.apply(first);
        if (w0 == null || !w0.id().equals(events.get(0).eventId()) || !w0.stream().equals(stream)) {
            return NOT_A_REPEAT;
        }
        Written before = first == 0 ? null : writtenAt.apply(first - 1);
        boolean whole = before == null || before.endsAppend();
        Written last = w0;
        for (int i = 0; whole && i < events.size(); i++) {
            Written w = i == 0 ? w0 : writtenAt.apply(first + i);
            whole = w != null && w.id().equals(events.get(i).eventId()) && w.stream().equals(stream)
                && w.endsAppend() == (i == events.size() - 1);
            last = w;
        }
        return whole ? new WholeRepeat(w0, last) : PARTIAL_REPEAT;
    }
}
