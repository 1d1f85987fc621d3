package io.reel.store.internal.subscription;

import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StreamMetadata;
import io.reel.store.internal.index.StreamIndex;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.PositionReader;
import io.reel.store.internal.log.RecentRecords;
import java.io.IOException;
import java.time.Clock;
import reactor.core.publisher.SynchronousSink;

/** A stream read in progress: positions from the index, records through a {@link PositionReader}. */
public final class StreamRead {
    private final PositionReader reader;
    private final Log.Head head;
    private final StreamIndex.StreamEntry entry;
    private final boolean forwards;
    private final long lowest;
    private final long highest;
    private final long cutoffMicros;
    private long next;
    private long remaining;

    /**
     * A read of {@code stream} from {@code fromRevision}, at most {@code maxCount} events (0: all), up to {@code head},
     * with positions from {@code index} and records from {@code log} (or {@code recent}); {@code clock} dates maxAge.
     */
    public StreamRead(Log log, RecentRecords recent, StreamIndex index, Clock clock, String stream, long fromRevision, long maxCount,
                      Direction direction, Log.Head head) {
        this.reader = new PositionReader(log, recent);
        this.head = head;
        this.forwards = direction == Direction.FORWARDS;
        this.remaining = maxCount == 0 ? Long.MAX_VALUE : maxCount;
        StreamIndex.StreamEntry e = index.get(stream);
        StreamMetadata metadata = e == null ? StreamMetadata.NONE : e.metadata();
        if (metadata.hardDeleted()) {
            throw new ReelException(ErrorCode.STREAM_DELETED, "stream '" + stream + "' was hard-deleted");
        }
        this.entry = e;
        long end = e == null ? 0 : e.endRevision();
        long low = e == null ? 0 : e.baseRevision();
        low = Math.max(low, metadata.truncateBefore());
        if (metadata.maxCount() > 0) {
            low = Math.max(low, end - metadata.maxCount());
        }
        this.lowest = low;
        this.highest = end - 1;
        this.cutoffMicros = LogFormat.ageCutoffMicros(LogFormat.micros(clock.instant()), metadata.maxAge());
        this.next = forwards ? Math.max(fromRevision, lowest) : Math.min(fromRevision, highest);
    }

    /** Emits the next event, or completes; for {@code Flux.generate}. */
    public StreamRead next(SynchronousSink<RecordedEvent> sink) {
        try {
            while (remaining > 0 && entry != null && next >= lowest && next <= highest) {
                long revision = next;
                next += forwards ? 1 : -1;
                long position = entry.position(revision);
                RecordedEvent record = position < 0 ? null : reader.read(position, head);
                if (record == null) {
                    continue;
                }
                if (record.timestampMicros() < cutoffMicros) {
                    if (forwards) {
                        continue;
                    }
                    break;
                }
                remaining--;
                sink.next(record);
                return this;
            }
            sink.complete();
        } catch (IOException e) {
            sink.error(new ReelException(ErrorCode.IO_ERROR, "reading the log failed: " + e, e));
        } catch (RuntimeException e) {
            sink.error(e);
        }
        return this;
    }

    public void close() {
        reader.close();
    }
}
