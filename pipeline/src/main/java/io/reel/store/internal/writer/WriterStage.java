package io.reel.store.internal.writer;

import io.reel.store.AppendResult;
import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import io.reel.store.StreamMetadata;
import io.reel.store.WrongExpectedVersionException;
import io.reel.store.internal.index.StreamIndex;
import io.reel.store.internal.log.Bytes;
import io.reel.store.internal.log.CommittedBatch;
import io.reel.store.internal.log.Crc;
import io.reel.store.internal.log.DurablePoint;
import io.reel.store.internal.log.FrameCodec;
import io.reel.store.internal.log.FrameCompression;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.OffsetIndex;
import io.reel.store.internal.log.PositionReader;
import io.reel.store.internal.log.RecentRecords;
import io.reel.store.internal.log.RecordCodec;
import io.reel.store.internal.log.Segment;
import io.reel.store.internal.log.SystemStreams;
import io.reel.store.internal.subscription.LogCursor;
import io.reel.store.internal.writer.AppendRules.Written;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.NonBlocking;

/**
 * The Writer stage: the one thread that owns the active segment.
 *
 * <p>Appends arrive through a bounded queue (bounded by count and by bytes; a full queue fails the append at
 * once with {@code OVERLOADED}) and each completes a {@code Mono<AppendResult>}. The thread drains
 * everything waiting, checks each append against the streams' revisions, encodes all of them into one
 * buffer, writes it once and forces it once (group commit), then publishes the new head and completes every
 * append of the batch. Nothing waits on a timer: a lone append is written and forced at once, and appends
 * arriving during a force form the next batch.
 *
 * <p>Acknowledgements leave the writer thread at once: the outcomes of a batch (and the rejections decided
 * while building it) are handed to the {@link Acknowledger}'s thread in one piece, which signals them in order.
 * Both threads are marked {@link NonBlocking}: a {@code block()} there fails fast instead of stalling every writer.
 *
 * <p>A write that fails fails its batch with {@code STORAGE_FULL} or {@code IO_ERROR}; nothing of it is
 * acknowledged, the bytes it may have left are zeroed before the next write, and writes resume when the
 * cause is gone. A force that fails stops writes until the store is reopened: after fsync fails, Linux may
 * drop the dirty pages it could not write and report the next fsync as a success (PostgreSQL's "fsyncgate",
 * 2018), so forcing again could acknowledge appends that are not on disk. The batch fails with
 * {@code IO_ERROR} (its outcome unknown, which is what that code means for an append), and so does every
 * later append. Reads and subscriptions are not affected.
 */
public final class WriterStage {
    private static final Logger LOG = LoggerFactory.getLogger(WriterStage.class);
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(40);
    /** Busy spins before the idle writer yields: a few microseconds, what a producer on an idle core needs to come back. */
    private static final int SPINS_BEFORE_YIELD = 100;
    /** The longest a batch waits for the rest of appends submitted {@link #together}. */
    private static final long TOGETHER_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    /** The longest the acknowledging thread spins for a batch being forced; longer forces wake it. */
    private static final long MAX_ACK_SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long DURABLE_POINT_INTERVAL_MILLIS = 10;
    private static final long DURABLE_POINT_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(DURABLE_POINT_INTERVAL_MILLIS);

    private final Log log;
    private final StreamHeads heads;
    private final RecentEventIds recentIds;
    /**
     * How far back, in positions, an append is recognised as a retry by its event ids: the half of the id window
     * that the table always holds (a node that just opened holds more of the past than one that ran on), so that
     * whether a retry is recognised depends on the log alone, the same on every replica of a cluster.
     */
    private final long windowPositions;
    private final RecentRecords recent;
    private final DurablePoint durablePoint;
    private final Runnable onCommit;
    private final StoreSettings settings;
    private final StoreMetrics metrics;

    private final ConcurrentLinkedQueue<AppendCommand> queue = new ConcurrentLinkedQueue<>();
    private final Acknowledger acks;
    private final AtomicInteger queuedCount = new AtomicInteger();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final Thread thread;
    private volatile boolean parked;
    /** Threads inside {@link #together} now. */
    private final java.util.concurrent.atomic.AtomicInteger submittingTogether = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closing;
    private volatile boolean stopped;
    private volatile String state = "ok";
    /** A force failed: nothing more is written until the store is reopened. */
    private volatile ReelException forceFailure;

    /* Writer thread only. */
    private long writeOffset;
    private long nextPosition;
    private long forcedOffset;
    private long forcedPosition;
    private long lastForceNanos;
    /** How long the last force took. */
    private long lastForceDuration;
    private AppendCommand carry;
    private long batchTimestampMicros;
    private long durableRecordedNanos;
    private long durableRecordedPosition = -1;
    private long dirtyFrom = -1;
    private long dirtyTo = -1;
    private final List<AppendCommand> batch = new ArrayList<>();
    /** Frames the commands of {@link #batch} were given positions for: the next one's first position is nextPosition + this. */
    private int batchFrames;
    /** The command {@link #writeBatch} is deciding about, taken from the queue (an unexpected failure must answer it). */
    private AppendCommand inHand;
    /** A roll failed: the old segment takes nothing more, the next batch rolls first. */
    private boolean rollOwed;
    private final BatchArena arena = new BatchArena();
    /** Null unless frames are compressed ({@code StoreSettings.compression}). */
    private final FrameCompression compression;
    private final StreamIndex streamIndex;
    /** How long the writer waits for the indexer on the rare path that needs it ({@link #positionOf}). */
    private static final java.time.Duration INDEX_WAIT = java.time.Duration.ofSeconds(10);
    private final PositionReader committed;

    public WriterStage(Log log, StreamHeads heads, StreamIndex streamIndex, RecentRecords recent, DurablePoint durablePoint, Runnable onCommit,
                StoreSettings settings, StoreMetrics metrics) {
        this.log = log;
        this.streamIndex = streamIndex;
        this.committed = new PositionReader(log, recent);
        this.heads = heads;
        this.recentIds = new RecentEventIds(settings.idempotencyWindow());
        this.windowPositions = settings.idempotencyWindow() / 2;
        this.recent = recent;
        this.durablePoint = durablePoint;
        this.onCommit = onCommit;
        this.settings = settings;
        this.compression = settings.compression() == StoreSettings.Compression.LZ4 ? new FrameCompression() : null;
        this.metrics = metrics;
        this.acks = new Acknowledger(nanos -> metrics.appendLatency.record(nanos, TimeUnit.NANOSECONDS));
        Log.Head head = log.head();
        this.writeOffset = head.endOffset();
        this.nextPosition = head.position();
        this.forcedOffset = writeOffset;
        this.forcedPosition = nextPosition;
        this.thread = new WriterThread(this::run);
    }

    /** The writer's thread: marked non-blocking so that {@code block()} on it fails fast. */
    private static final class WriterThread extends Thread implements NonBlocking {
        WriterThread(Runnable body) {
            super(body, "reel-writer");
            setDaemon(true);
        }
    }

    /**
     * Refills the idempotency window from the tail of the log before the writer starts, so that a client
     * retrying an append whose acknowledgement a crash swallowed gets the earlier result, not a duplicate.
     */
    public void rememberRecent(LogCursor cursor, Log.Head head) throws IOException {
        java.util.ArrayList<RecordedEvent> chunk = new java.util.ArrayList<>();
        while (cursor.read(chunk, 4096, head) > 0) {
            for (RecordedEvent r : chunk) {
                recentIds.add(r.eventId(), r.position());
            }
            chunk.clear();
        }
    }

    public void start() {
        acks.start();
        thread.start();
    }

    /** "ok", or why writes are failing ("STORAGE_FULL: ..." / "IO_ERROR: ..."). */
    public String state() {
        return state;
    }

    public int queued() {
        return queuedCount.get();
    }

    public Mono<AppendResult> submit(AppendCommand command) {
        return Mono.create(sink -> {
            command.sink = sink;
            offer(command);
        });
    }

    /**
     * Runs {@code submissions}, which submit appends on this thread, so that they reach a batch together: the
     * writer is woken once they are all queued, and a batch that has taken the queue empty while they are still
     * being submitted waits for them (at most {@link #TOGETHER_WAIT_NANOS}) instead of being written and forced
     * with the first few while the others wait for the next force.
     */
    public void together(Runnable submissions) {
        submittingTogether.incrementAndGet();
        try {
            submissions.run();
        } finally {
            submittingTogether.decrementAndGet();
            if (parked) {
                LockSupport.unpark(thread);
            }
        }
    }

    /** The next queued command; when there is none yet but appends are being submitted together, waits a little for them. */
    private AppendCommand pollTogether() {
        AppendCommand c = poll();
        if (c != null || submittingTogether.get() == 0) {
            return c;
        }
        long until = System.nanoTime() + TOGETHER_WAIT_NANOS;
        do {
            Thread.onSpinWait();
            c = poll();
        } while (c == null && submittingTogether.get() > 0 && System.nanoTime() - until < 0);
        return c != null ? c : poll();
    }

    private void offer(AppendCommand command) {
        if (closing) {
            fail(command, new ReelException(ErrorCode.CLOSED, "the store is closed; no more appends are taken"));
            return;
        }
        ReelException forceFailed = forceFailure;
        if (forceFailed != null) {
            fail(command, forceFailed);
            return;
        }
        int count = queuedCount.incrementAndGet();
        long bytes = queuedBytes.addAndGet(command.dataBytes);
        if (count > settings.writerQueueCapacity() || (bytes > settings.writerQueueBytes() && count > 1)) {
            queuedCount.decrementAndGet();
            queuedBytes.addAndGet(-command.dataBytes);
            fail(command, new ReelException(ErrorCode.OVERLOADED, "the writer's queue is full (" + (count - 1)
                + " appends, " + (bytes - command.dataBytes) + " bytes waiting); retry after a short pause"));
            return;
        }
        queue.offer(command);
        if (parked && submittingTogether.get() == 0) {
            LockSupport.unpark(thread);
        }
        if (stopped) {
            failQueued();
        }
    }

    private AppendCommand poll() {
        AppendCommand c = queue.poll();
        if (c != null) {
            queuedCount.decrementAndGet();
            queuedBytes.addAndGet(-c.dataBytes);
        }
        return c;
    }

    private void fail(AppendCommand command, ReelException error) {
        metrics.rejected(error.code());
        if (Thread.currentThread() == thread) {
            acks.failure(command.sink, error);
        } else {
            command.sink.error(error);
        }
    }

    /** Stops taking appends, writes and forces everything already queued, and waits for the thread to end. */
    public void close() {
        closing = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.MINUTES.toMillis(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        acks.close();
    }

    private void run() {
        try {
            while (true) {
                AppendCommand first = carry != null ? carry : poll();
                carry = null;
                if (first == null) {
                    if (closing) {
                        break;
                    }
                    idle();
                    continue;
                }
                try {
                    writeBatch(first);
                } catch (RuntimeException | Error e) {
                    LOG.error("the writer failed unexpectedly; the batch is failed and the writer goes on", e);
                    ReelException error = new ReelException(ErrorCode.INTERNAL, "the writer failed unexpectedly: " + e, e);
                    AppendCommand stranded = inHand;
                    if (stranded != null && stranded != carry && !batch.contains(stranded)) {
                        fail(stranded, error);   // taken from the queue, in no batch yet: nothing else would answer it
                    }
                    failBatch(error);
                }
                inHand = null;
                acks.handOver();
            }
            if (forceFailure == null) {   // after a failed force a second one proves nothing: the durable point stays where it was
                forceIfDirty();
                durablePoint.record(nextPosition, log.active().basePosition(), writeOffset, true);
            }
        } catch (IOException e) {
            LOG.error("could not force the log while closing: {}", e.toString());
        } finally {
            committed.close();
            stopped = true;
            failQueued();
            acks.handOver();
        }
    }

    private void failQueued() {
        AppendCommand c;
        while ((c = poll()) != null) {
            fail(c, new ReelException(ErrorCode.CLOSED, "the store closed before this append was written; nothing was written"));
        }
    }

    /** Nothing queued: force pending batched writes when due, else sleep until an append arrives. */
    private void idle() {
        long waitNanos = TimeUnit.MILLISECONDS.toNanos(200);
        if (forcedOffset != writeOffset) {
            long due = lastForceNanos + settings.durability().interval().toNanos() - System.nanoTime();
            if (due <= 0) {
                try {
                    forceIfDirty();
                } catch (IOException e) {
                    forceFailed(e);
                }
                return;
            }
            waitNanos = due;
        }
        if (spinForWork()) {
            return;
        }
        recordDurablePoint();
        try {
            durablePoint.forceIfDue();
        } catch (IOException e) {
            LOG.warn("could not force {}: {}", DurablePoint.FILE_NAME, e.toString());
        }
        if (spinForWork()) {
            return;
        }
        parked = true;
        if (queue.isEmpty() && !closing) {
            LockSupport.parkNanos(this, waitNanos);
        }
        parked = false;
    }

    /**
     * Records the durable point lazily: when the writer has nothing to do, and at least every
     * {@value #DURABLE_POINT_INTERVAL_MILLIS} ms under load, not after every batch. It may only lag the data
     * (recovery then treats damage in the lag as a torn tail), never lead it.
     */
    private void recordDurablePoint() {
        durableRecordedNanos = System.nanoTime();
        if (forcedPosition == durableRecordedPosition) {
            return;
        }
        try {
            durablePoint.record(forcedPosition, log.active().basePosition(), forcedOffset, false);
            durableRecordedPosition = forcedPosition;
        } catch (IOException e) {
            LOG.warn("could not record the durable point: {}", e.toString());
        }
    }

    /**
     * Waits a little for the next append before parking. A caller that appends in a loop (a command handler,
     * a producer awaiting each acknowledgement) comes back within microseconds of its acknowledgement; catching
     * it here saves the futex wake-up that unparking would cost it, tens of microseconds on a small VM. Short
     * enough that an idle store burns almost nothing. After the first {@value #SPINS_BEFORE_YIELD} spins it
     * yields instead (the middle of Aeron's {@code BackoffIdleStrategy}: spin, yield, park), so that on a machine
     * with fewer cores than busy threads the core goes to threads with work: spinning on took 7–10% of a cluster
     * node's samples on two cores. (The acknowledging thread spins on: yielding there cost 20–50 µs of remote e2e p50.)
     */
    private boolean spinForWork() {
        long until = System.nanoTime() + SPIN_NANOS;
        for (int i = 0; ; i++) {
            if (!queue.isEmpty() || closing) {
                return true;
            }
            if (System.nanoTime() - until >= 0) {
                return false;
            }
            if (i < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    private void writeBatch(AppendCommand first) {
        ReelException forceFailed = forceFailure;
        if (forceFailed != null) {
            fail(first, forceFailed);
            return;
        }
        if (dirtyFrom >= 0 && !clearFailedWrite(first)) {
            return;
        }
        long segmentSize = log.segmentSize();
        boolean importing = first.kind == AppendCommand.Kind.IMPORT;
        batchTimestampMicros = importing ? first.imported.timestampMicros() : LogFormat.micros(settings.clock().instant());
        long bytes = 0;
        int frames = 0;
        int appendFrames = 0;
        AppendCommand command = first;
        while (command != null) {
            inHand = command;
            if (importing != (command.kind == AppendCommand.Kind.IMPORT)
                || (importing && command.imported.timestampMicros() != batchTimestampMicros)) {
                // a batch has one commit time: imported frames keep theirs, so they never share a batch with others
                carry = command;
                break;
            }
            // after a roll that failed, nothing more goes into the old segment: the next append rolls first
            AppendRules.Fit fit = rollOwed && bytes == 0 ? AppendRules.Fit.ROLL
                : AppendRules.fit(writeOffset, bytes, command.frameBytesBound, segmentSize, LogFormat.SEGMENT_HEADER_SIZE);
            if (fit == AppendRules.Fit.NEXT_BATCH) {
                carry = command;
                break;
            } else if (fit == AppendRules.Fit.ROLL) {
                if (!roll(command)) {
                    return;
                }
                continue;
            } else if (fit == AppendRules.Fit.TOO_LARGE) {
                fail(command, new ReelException(ErrorCode.TOO_LARGE, "the append to stream '" + command.stream + "' needs up to "
                    + command.frameBytesBound + " bytes, more than a whole segment (" + segmentSize + " bytes); split it or raise --segment-size"));
            } else if (prepare(command)) {
                batch.add(command);
                bytes += command.frameBytes;
                frames += command.eventCount();
                appendFrames += command.eventCount() > 0 ? 1 : 0;
                if (bytes >= settings.maxBatchBytes()) {
                    break;
                }
            }
            command = pollTogether();
        }
        if (batch.isEmpty()) {
            return;
        }
        byte[] buffer = arena.reserve((int) bytes);
        int start = arena.start();
        int[] frameOffsets = new int[appendFrames];
        int[] frameStarts = new int[appendFrames];
        long timestampMicros = importing ? batchTimestampMicros : commitTimestamp(batchTimestampMicros);
        bytes = encode(buffer, start, frameOffsets, frameStarts, timestampMicros) - start;
        long firstPosition = nextPosition;
        long at = writeOffset;
        long forceNanos;
        if (settings.durability().isFsync()) {
            acks.expectHandOver(Math.min(MAX_ACK_SPIN_NANOS, lastForceDuration + lastForceDuration / 2));
        }
        try {
            log.active().write(ByteBuffer.wrap(buffer, start, (int) bytes), at);
        } catch (IOException e) {
            writeFailed(e, at, at + bytes);
            return;
        }
        try {
            forceNanos = forceIfDue(at + bytes);
        } catch (IOException e) {
            forceFailed(e);
            return;
        }
        arena.commit((int) bytes);
        writeOffset = at + bytes;
        nextPosition = firstPosition + frames;
        heads.commit();
        OffsetIndex offsets = log.active().offsetIndex();
        for (int i = 0; i < appendFrames; i++) {
            long frameOffset = at + frameOffsets[i] - start;
            long frameEnd = i + 1 < appendFrames ? at + frameOffsets[i + 1] - start : at + bytes;
            long lastPosition = firstPosition + (i + 1 < appendFrames ? frameStarts[i + 1] : frames) - 1;
            offsets.onFrame(firstPosition + frameStarts[i], frameOffset, frameEnd, timestampMicros);
            if (lastPosition > firstPosition + frameStarts[i]) {
                offsets.onFrame(lastPosition, frameOffset, frameEnd, timestampMicros);
            }
        }
        CommittedBatch committed = new CommittedBatch(firstPosition, frames, buffer, (int) bytes, frameOffsets, frameStarts, timestampMicros);
        recent.add(committed);
        log.publishHead(new Log.Head(nextPosition, log.active().basePosition(), writeOffset, timestampMicros));
        heads.publishChanges();
        state = "ok";
        completeBatch();
        // after the acknowledgements: none of this is on an append's path. Waking the subscriptions hands a
        // task to another thread, a futex wake-up that would otherwise delay every acknowledgement; readers
        // already see the new head, published above.
        onCommit.run();
        metrics.batch(frames, bytes, forceNanos);
        if (System.nanoTime() - durableRecordedNanos >= DURABLE_POINT_INTERVAL_NANOS) {
            recordDurablePoint();
        }
        log.preallocateIfDue(writeOffset);
    }

    /**
     * The batch's commit time, read again once the batch is complete: appends that joined the batch while it
     * was being built were submitted after {@code sizedWith} was read, and a record must not say it was
     * committed before it was sent. Frame sizes were computed with {@code sizedWith}, so the later reading is
     * taken only when it encodes to as many bytes (always, except across a varint boundary of the clock).
     */
    private long commitTimestamp(long sizedWith) {
        long now = LogFormat.micros(settings.clock().instant());
        return sizedWith != 0 && now > sizedWith && RecordCodec.varintSize(now) == RecordCodec.varintSize(sizedWith) ? now : sizedWith;
    }

    /** Forces now under FSYNC, or when the interval has passed under BATCHED; returns the force's nanos or -1. */
    private long forceIfDue(long end) throws IOException {
        Durability durability = settings.durability();
        long now = System.nanoTime();
        if (durability.isFsync() || now - lastForceNanos >= durability.interval().toNanos()) {
            log.active().force();
            long done = System.nanoTime();
            lastForceNanos = done;
            lastForceDuration = done - now;
            forcedOffset = end;
            forcedPosition = nextPosition + batchFrames;
            return done - now;
        }
        return -1;
    }

    private void forceIfDirty() throws IOException {
        if (forcedOffset != writeOffset) {
            long start = System.nanoTime();
            log.active().force();
            lastForceNanos = System.nanoTime();
            metrics.fsyncLatency.record(lastForceNanos - start, TimeUnit.NANOSECONDS);
            forcedOffset = writeOffset;
            forcedPosition = nextPosition;
            durablePoint.record(forcedPosition, log.active().basePosition(), forcedOffset, false);
        }
    }

    /** Seals the active segment and starts the next; false (and the command failed) when that fails. */
    private boolean roll(AppendCommand waiting) {
        try {
            forceIfDirty();
        } catch (IOException e) {
            batch.add(waiting);
            forceFailed(e);
            return false;
        }
        try {
            log.roll(nextPosition, writeOffset);
            writeOffset = LogFormat.SEGMENT_HEADER_SIZE;
            forcedOffset = writeOffset;
            Log.Head head = log.head();
            log.publishHead(new Log.Head(nextPosition, log.active().basePosition(), writeOffset, head.timestampMicros()));
            durablePoint.record(nextPosition, log.active().basePosition(), writeOffset, true);
            rollOwed = false;
            return true;
        } catch (IOException e) {
            rollOwed = true;
            batch.add(waiting);
            writeFailed(e, -1, -1);
            return false;
        }
    }

    /**
     * Checks one command against the streams' state and gives it positions and revisions; false when it was
     * answered at once (rejected, or a retry of a committed append).
     */
    private boolean prepare(AppendCommand c) {
        switch (c.kind) {
            case APPEND -> {
                StreamHeads.StreamHead head = heads.get(c.stream);
                if (head.pendingHardDeleted()) {
                    fail(c, deleted(c.stream));
                    return false;
                }
                Boolean retry;
                try {
                    retry = checkRetry(c);
                } catch (ReelException e) {
                    fail(c, e);
                    return false;
                }
                if (retry == null) {
                    return false;
                }
                if (retry) {
                    return true;
                }
                if (!AppendRules.expectationHolds(c.expected, head.pendingRevision, head.pendingSoftDeleted())) {
                    if (c.expected.isExact() && c.expected.revision() < head.pendingRevision) {
                        Boolean earlier;
                        try {
                            long first = positionOf(c.stream, c.expected.revision() + 1);
                            earlier = first < 0 ? Boolean.FALSE : matchEarlierAppend(c, first);
                        } catch (ReelException e) {
                            fail(c, e);
                            return false;
                        }
                        if (earlier != Boolean.FALSE) {
                            return earlier != null;
                        }
                    }
                    fail(c, new WrongExpectedVersionException(c.stream, c.expected, head.pendingRevision, head.pendingSoftDeleted()));
                    return false;
                }
                assign(c, head, c.stream, c.events);
                for (int i = 0; i < c.events.size(); i++) {
                    recentIds.add(c.events.get(i).eventId(), c.firstPosition + i);
                }
                return true;
            }
            case SET_METADATA, SOFT_DELETE, HARD_DELETE -> {
                StreamHeads.StreamHead target = heads.get(c.stream);
                if (target.pendingHardDeleted()) {
                    fail(c, deleted(c.stream));
                    return false;
                }
                if (c.kind != AppendCommand.Kind.SET_METADATA && !AppendRules.expectationHolds(c.expected, target.pendingRevision, target.pendingSoftDeleted())) {
                    fail(c, new WrongExpectedVersionException(c.stream, c.expected, target.pendingRevision, target.pendingSoftDeleted()));
                    return false;
                }
                StreamMetadata metadata = switch (c.kind) {
                    case SET_METADATA -> c.metadata;
                    case SOFT_DELETE -> deleted(target.pendingMetadata.withTruncateBefore(target.pendingRevision + 1), false);
                    default -> deleted(target.pendingMetadata, true);
                };
                String metadataStream = SystemStreams.metadataStreamOf(c.stream);
                StreamHeads.StreamHead metaHead = heads.get(metadataStream);
                assign(c, metaHead, metadataStream, List.of(SystemStreams.metadataEvent(c.stream, metadata, metaHead.pendingRevision + 1)));
                target.pendingMetadata = metadata;
                heads.touch(target);
                return true;
            }
            case IMPORT -> {
                return prepareImport(c);
            }
            default -> throw new IllegalStateException("unknown command " + c.kind);
        }
    }

    /**
     * An imported frame continues this log only where it stands: at the head, at the stream's next revision.
     * The writer then learns from it what an append would have taught it (revision, metadata, event ids).
     */
    private boolean prepareImport(AppendCommand c) {
        AppendCommand.ImportedFrame f = c.imported;
        StreamHeads.StreamHead head = heads.get(c.stream);
        long at = nextPosition + batchFrames;
        if (f.firstPosition() != at || f.firstRevision() != head.pendingRevision + 1) {
            fail(c, new ReelException(ErrorCode.CORRUPTED, "the imported frame of stream '" + c.stream + "' at position "
                + f.firstPosition() + ", revision " + f.firstRevision() + " does not continue this log (head " + at + ", stream revision "
                + head.pendingRevision + "): the source is not a replica of this log; wipe this node's data directory and let it rejoin"));
            return false;
        }
        c.firstPosition = at;
        c.firstRevision = f.firstRevision();
        c.writtenStream = c.stream;
        batchFrames += f.count();
        head.pendingRevision += f.count();
        heads.touch(head);
        if (f.metadata() != null) {
            StreamHeads.StreamHead target = heads.get(SystemStreams.streamOfMetadataStream(c.stream));
            target.pendingMetadata = f.metadata();
            heads.touch(target);
        }
        if (!SystemStreams.isMetadataStream(c.stream)) {
            // as an append of these events would have: metadata changes never enter the idempotency window
            for (int i = 0; i < f.count(); i++) {
                recentIds.add(f.eventIds().get(i), at + i);
            }
        }
        c.frameBytes = f.bytes().length;
        c.result = new AppendResult(at, at + f.count() - 1, f.firstRevision() + f.count() - 1);
        return true;
    }

    /**
     * The position of {@code revision} of {@code stream}, or -1 when it is gone (truncated, scavenged): from the
     * batch being built, else from the stream index once that has indexed everything committed. The indexer runs
     * on its own thread, and an answer that depended on how far it had got would differ from run to run, and
     * between two replicas applying the same entries; so the writer waits for it here, on this one rare path (an
     * append that expected an older revision of its stream, looked up to see whether it is a retry).
     */
    private long positionOf(String stream, long revision) {
        for (AppendCommand b : batch) {
            if (b.duplicateOf == null && stream.equals(b.writtenStream) && revision >= b.firstRevision && revision < b.firstRevision + b.eventCount()) {
                return b.firstPosition + (revision - b.firstRevision);
            }
        }
        long deadline = System.nanoTime() + INDEX_WAIT.toNanos();
        while (streamIndex.indexedUpTo() < nextPosition) {
            if (System.nanoTime() - deadline > 0) {
                throw new ReelException(ErrorCode.UNAVAILABLE, "the append to stream '" + stream + "' expected revision " + (revision - 1)
                    + ", and whether it repeats the append written after that revision can only be told once the stream index has caught"
                    + " up (indexed up to position " + streamIndex.indexedUpTo() + " of " + nextPosition + "); retry it with the same event ids");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(20_000);
        }
        StreamIndex.StreamEntry entry = streamIndex.get(stream);
        return entry == null ? -1 : entry.position(revision);
    }

    private static ReelException deleted(String stream) {
        return new ReelException(ErrorCode.STREAM_DELETED, "stream '" + stream
            + "' was hard-deleted and can never be written again; use a new stream name");
    }

    /**
     * Recognises a retried append by its event ids. Returns TRUE when it repeats an append of this batch
     * (it then completes with it), FALSE when it is new, and null when it was answered: a retry of a
     * durable append (the earlier result) or a partial repeat ({@code INVALID_ARGUMENT}).
     */
    private Boolean checkRetry(AppendCommand c) {
        List<EventData> events = c.events;
        long horizon = nextPosition + batchFrames - windowPositions;
        long first = recentIds.find(events.get(0).eventId());
        if (first >= 0 && first >= horizon) {
            Boolean earlier = matchEarlierAppend(c, first);
            if (earlier != Boolean.FALSE) {
                return earlier;
            }
        }
        // event 0 was looked up above: absent, or not where the hint said (a stale entry)
        for (int i = 1; i < events.size(); i++) {
            UUID id = events.get(i).eventId();
            long at = recentIds.find(id);
            Written w = at < 0 || at < horizon ? null : writtenAt(at);
            if (w != null && w.id().equals(id) && w.stream().equals(c.stream)) {
                fail(c, partialRepeat(c, i, id, at));
                return null;
            }
        }
        return Boolean.FALSE;
    }

    /**
     * Compares an append with what was written from {@code first}: TRUE when it repeats an append of this
     * batch, null when it was answered (the earlier result, or a partial repeat), FALSE when the event at
     * {@code first} is not its first event at all.
     */
    private Boolean matchEarlierAppend(AppendCommand c, long first) {
        AppendRules.Repeat repeat = AppendRules.repeatOf(c.events, c.stream, first, this::writtenAt);
        if (repeat instanceof AppendRules.NotARepeat) {
            return Boolean.FALSE;
        }
        if (!(repeat instanceof AppendRules.WholeRepeat whole)) {
            fail(c, partialRepeat(c, 0, c.events.get(0).eventId(), first));
            return null;
        }
        if (whole.first().inBatch() != null) {
            c.duplicateOf = whole.first().inBatch();
            return Boolean.TRUE;
        }
        acks.success(c.sink, new AppendResult(first, first + c.events.size() - 1, whole.last().revision()), 0);
        return null;
    }

    private static ReelException partialRepeat(AppendCommand c, int index, UUID id, long at) {
        return ReelException.invalidArgument("event " + index + " (id " + id + ") of the append to stream '" + c.stream
            + "' was already written at position " + at + ", but the append does not repeat that earlier append exactly;"
            + " resend the earlier append as it was, or use new event ids");
    }

    /** The event at a position: from the batch being built when it is past the head, else read from the log. */
    private Written writtenAt(long position) {
        if (position >= nextPosition) {
            for (AppendCommand b : batch) {
                int n = b.eventCount();
                if (b.duplicateOf == null && position >= b.firstPosition && position < b.firstPosition + n) {
                    int i = (int) (position - b.firstPosition);
                    return new Written(b.writtenEvents.get(i).eventId(), b.writtenStream, b.firstRevision + i, i == n - 1, b);
                }
            }
            return null;
        }
        try {
            RecordedEvent r = committed.read(position, log.head());
            return r == null ? null : new Written(r.eventId(), r.stream(), r.revision(), r.endsAppend(), null);
        } catch (IOException | ReelException e) {
            // not "no repeat": writing the append again could double it (and, in a cluster, only on this replica)
            throw new ReelException(ErrorCode.IO_ERROR, "could not read position " + position + " to check whether this append"
                + " repeats an earlier one (" + e.getMessage() + "); retry it with the same event ids", e);
        }
    }

    private void assign(AppendCommand c, StreamHeads.StreamHead head, String stream, List<EventData> events) {
        c.writtenStream = stream;
        c.writtenStreamUtf8 = stream.equals(c.stream) ? c.streamUtf8 : stream.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        c.writtenEvents = events;
        c.firstPosition = nextPosition + batchFrames;
        batchFrames += events.size();
        c.firstRevision = head.pendingRevision + 1;
        head.pendingRevision += events.size();
        heads.touch(head);
        c.frameBytes = compression == null ? FrameCodec.frameSize(c.writtenStreamUtf8, c.origin, events)
            : FrameCompression.frameBound(c.writtenStreamUtf8, c.origin, events);
        c.result = new AppendResult(c.firstPosition, c.firstPosition + events.size() - 1, c.firstRevision + events.size() - 1);
    }

    /** Encodes one format-2 frame per append of the batch: no per-event allocation, one CRC per frame. */
    /** Returns where the frames end: {@code start} plus the bytes sized, or fewer when compression shrank them. */
    private int encode(byte[] buffer, int start, int[] frameOffsets, int[] frameStarts, long timestampMicros) {
        int p = start;
        int frame = 0;
        int relative = 0;
        for (AppendCommand c : batch) {
            if (c.kind == AppendCommand.Kind.IMPORT) {
                frameOffsets[frame] = p;
                frameStarts[frame] = relative;
                System.arraycopy(c.imported.bytes(), 0, buffer, p, c.frameBytes);
                p += c.frameBytes;
                relative += c.imported.count();
                frame++;
                continue;
            }
            List<EventData> events = c.writtenEvents;
            if (events == null) {
                continue;
            }
            frameOffsets[frame] = p;
            frameStarts[frame] = relative;
            p = compression == null
                ? FrameCodec.encode(buffer, p, c.firstPosition, c.firstRevision, timestampMicros, c.writtenStreamUtf8, c.origin, events)
                : compression.encode(buffer, p, c.firstPosition, c.firstRevision, timestampMicros, c.writtenStreamUtf8, c.origin, events);
            relative += events.size();
            frame++;
        }
        if (compression == null ? p != arena.start() + arena.reserved() : p > arena.start() + arena.reserved()) {
            throw new IllegalStateException("encoded " + (p - start) + " bytes, sized " + arena.reserved());
        }
        return p;
    }

    private void completeBatch() {
        for (AppendCommand c : batch) {
            AppendCommand original = c.duplicateOf != null ? c.duplicateOf : c;
            acks.success(c.sink, original.result, c.submittedNanos);
        }
        metrics.appends.increment(batch.size());
        acks.handOver();
        batch.clear();
        batchFrames = 0;
    }

    private void failBatch(ReelException error) {
        heads.rollback();
        for (AppendCommand c : batch) {
            fail(c, error);
        }
        batch.clear();
        batchFrames = 0;
    }

    /** A write or force failed: fail the batch, remember the bytes to clear, keep everything else as it was. */
    private void writeFailed(IOException e, long from, long to) {
        boolean full = ReelException.isDiskFull(e);
        ReelException error = full
            ? new ReelException(ErrorCode.STORAGE_FULL, "the disk holding " + log.dir() + " is full (" + e.getMessage()
                + "); writes are stopped, reads go on; free some space and writes resume by themselves", e)
            : new ReelException(ErrorCode.IO_ERROR, "writing to " + log.dir() + " failed (" + e
                + "); writes are stopped, reads go on; check the disk and the system log", e);
        LOG.error("{}", error.getMessage());
        state = error.getMessage();
        if (from >= 0) {
            dirtyFrom = dirtyFrom < 0 ? from : Math.min(dirtyFrom, from);
            dirtyTo = Math.max(dirtyTo, to);
            try {
                zeroFailedWrite();
            } catch (IOException again) {
                LOG.warn("could not zero the failed write yet ({}); the next batch tries again first", again.toString());
            }
        }
        failBatch(error);
    }

    /** A force failed: the batch fails, its outcome unknown, and writes stop until the store is reopened. */
    private void forceFailed(IOException e) {
        ReelException error = new ReelException(ErrorCode.IO_ERROR, "forcing " + log.active().path() + " to disk failed (" + e
            + "); whether the appends being forced were written is unknown; writes are stopped until the store is reopened"
            + " (reads go on): check the disk and the system log, then restart", e);
        LOG.error("{}", error.getMessage());
        state = error.getMessage();
        forceFailure = error;
        failBatch(error);
    }

    /** Zeroes what a failed write may have left past the data; false (and {@code first} failed) when that fails too. */
    private boolean clearFailedWrite(AppendCommand first) {
        try {
            zeroFailedWrite();
            return true;
        } catch (IOException e) {
            batch.add(first);
            writeFailed(e, -1, -1);
            return false;
        }
    }

    /**
     * Zeroes what a failed write may have left past the data, and forces: whole frames of appends whose callers were
     * told the write failed must not be found by recovery (a crash or a close before the next batch would keep them).
     */
    private void zeroFailedWrite() throws IOException {
        Segment active = log.active();
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(1 << 20, dirtyTo - dirtyFrom));
        for (long p = dirtyFrom; p < dirtyTo; ) {
            zeros.clear();
            zeros.limit((int) Math.min(zeros.capacity(), dirtyTo - p));
            int n = zeros.remaining();
            active.write(zeros, p);
            p += n;
        }
        active.force();
        dirtyFrom = -1;
        dirtyTo = -1;
    }

    /** The metadata marked soft- or hard-deleted (the flags have no public {@code with} method: only the store sets them). */
    private static StreamMetadata deleted(StreamMetadata m, boolean hard) {
        return new StreamMetadata(m.maxCount(), m.maxAge(), m.truncateBefore(), !hard || m.softDeleted(), hard || m.hardDeleted());
    }
}
