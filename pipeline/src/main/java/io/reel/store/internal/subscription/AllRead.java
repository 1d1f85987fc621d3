package io.reel.store.internal.subscription;

import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.PositionReader;
import io.reel.store.internal.log.RecentRecords;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import reactor.core.publisher.SynchronousSink;

/** A {@code $all} read in progress. */
public final class AllRead {
    private final Log.Head head;
    private final EventFilter filter;
    private final boolean forwards;
    private final ArrayDeque<RecordedEvent> buffer = new ArrayDeque<>();
    private final LogCursor cursor;
    private final PositionReader backwards;
    private long remaining;
    private long nextBackwards;
    private volatile boolean cancelled;

    /**
     * A read of the log from {@code fromPosition} ({@link EventSource#END}: the head), at most {@code maxCount}
     * records (0: all) that match {@code filter}, up to {@code head}, from {@code log} (or {@code recent}).
     */
    public AllRead(Log log, RecentRecords recent, long fromPosition, long maxCount, Direction direction, EventFilter filter,
                   Log.Head head) {
        this.head = head;
        this.filter = filter;
        this.forwards = direction == Direction.FORWARDS;
        this.remaining = maxCount == 0 ? Long.MAX_VALUE : maxCount;
        this.cursor = forwards ? new LogCursor(log, recent, fromPosition == EventSource.END ? head.position() : fromPosition) : null;
        this.backwards = forwards ? null : new PositionReader(log, recent);
        this.nextBackwards = Math.min(fromPosition, head.position() - 1);
    }

    /**
     * The reader went away: a scan in progress stops at its next chunk. {@code Flux.generate} looks for a cancel only
     * between two records emitted, and a filter that matches nothing would otherwise scan to the head first.
     */
    public void cancel() {
        cancelled = true;
    }

    /** Emits the next matching record, or completes; for {@code Flux.generate}. */
    public AllRead next(SynchronousSink<RecordedEvent> sink) {
        try {
            while (remaining > 0) {
                RecordedEvent record = buffer.poll();
                if (record == null) {
                    if (cancelled || !refill()) {
                        break;
                    }
                    continue;
                }
                if (filter.matches(record)) {
                    remaining--;
                    sink.next(record);
                    return this;
                }
            }
            sink.complete();
        } catch (IOException e) {
            sink.error(new ReelException(ErrorCode.IO_ERROR, "reading the log failed: " + e, e));
        } catch (RuntimeException e) {
            sink.error(e);
        }
        return this;
    }

    private boolean refill() throws IOException {
        if (forwards) {
            return cursor.read(buffer, LogSubscription.CHUNK, head) > 0;
        }
        if (nextBackwards < 0) {
            return false;
        }
        List<RecordedEvent> block = backwards.blockBackwards(nextBackwards, head);
        if (block.isEmpty()) {
            return false;
        }
        buffer.addAll(block);
        nextBackwards = block.get(block.size() - 1).position() - 1;
        return true;
    }

    public void close() {
        if (cursor != null) {
            cursor.close();
        }
        if (backwards != null) {
            backwards.close();
        }
    }
}
