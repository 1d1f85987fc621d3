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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@code $all} read in progress, read a page at a time: each {@link #nextPage()} is one turn on a reader thread,
 * which scans at most {@value #SCAN_PER_PAGE} records. A filter that matches rarely thus gives its thread back
 * between pages, and the reads queued behind it go on, instead of waiting while it scans the whole log for
 * one match.
 */
public final class AllRead {
    /** Records one page scans at most, matching or not; it also ends once it holds {@link LogCursor#FILE_CHUNK} bytes. */
    static final int SCAN_PER_PAGE = 4096;

    private static final int IDLE = 0;
    private static final int READING = 1;
    private static final int CLOSE_AFTER_READ = 2;
    private static final int CLOSED = 3;

    /** What one turn found: the matching records of the next stretch of the log, and whether the read is over. */
    public record Page(List<RecordedEvent> records, boolean last) {
    }

    private final Log.Head head;
    private final EventFilter filter;
    private final boolean forwards;
    private final ArrayDeque<RecordedEvent> buffer = new ArrayDeque<>();
    private final LogCursor cursor;
    private final PositionReader backwards;
    /** Pages are read one after another, but {@link #close} may come from any thread meanwhile (a cancel). */
    private final AtomicInteger state = new AtomicInteger(IDLE);
    private long remaining;
    private long nextBackwards;
    private boolean exhausted;

    /**
     * A read of the log from {@code fromPosition} ({@link EventSource#END}: the head), at most {@code maxCount}
     * records (0: all) that match {@code filter}, up to {@code head}, from {@code log} (or {@code recent}).
     * Opens nothing yet.
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

    /** The next page, possibly empty; {@link Page#last()} once the read is over (or closed). */
    public Page nextPage() {
        if (!state.compareAndSet(IDLE, READING)) {
            return new Page(List.of(), true);
        }
        try {
            return scan();
        } catch (IOException e) {
            throw new ReelException(ErrorCode.IO_ERROR, "reading the log failed: " + e, e);
        } finally {
            if (!state.compareAndSet(READING, IDLE)) {
                release();
            }
        }
    }

    private Page scan() throws IOException {
        List<RecordedEvent> page = new ArrayList<>();
        long bytes = 0;
        for (int scanned = 0; scanned < SCAN_PER_PAGE && remaining > 0; scanned++) {
            RecordedEvent record = buffer.poll();
            if (record == null) {
                if (exhausted || !refill()) {
                    exhausted = true;
                    break;
                }
                record = buffer.poll();
            }
            if (filter.matches(record)) {
                page.add(record);
                remaining--;
                bytes += record.encodedLength();
                if (bytes >= LogCursor.FILE_CHUNK) {
                    break;
                }
            }
        }
        return new Page(page, remaining == 0 || exhausted);
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

    /** Releases the files the read holds: now, or at the end of the page being read on another thread. */
    public void close() {
        while (true) {
            int s = state.get();
            if (s == IDLE && state.compareAndSet(IDLE, CLOSED)) {
                release();
                return;
            }
            if (s == CLOSED || s == CLOSE_AFTER_READ || (s == READING && state.compareAndSet(READING, CLOSE_AFTER_READ))) {
                return;
            }
        }
    }

    private void release() {
        state.set(CLOSED);
        buffer.clear();
        if (cursor != null) {
            cursor.close();
        }
        if (backwards != null) {
            backwards.close();
        }
    }
}
