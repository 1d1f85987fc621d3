package io.reel.store.internal.log;

import io.reel.store.RecordedEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The segments of the log and its head. The segment list is copy-on-write: readers take the current array
 * and {@link Segment#retain()} what they read; the writer rolls, scavenge swaps. The head is one immutable
 * {@link Head}, published by the writer after each durable batch.
 *
 * <p>The next segment file is preallocated on a background thread while the active one fills, paced by it, so
 * a roll only renames a ready file.
 */
public final class Log implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Log.class);
    static final String NEXT_SEGMENT_FILE = "next-segment.tmp";

    /**
     * One past the last durable record ({@code position}), where its data ends in the active segment, and the
     * commit time of the last record (0 when the log is empty).
     */
    public record Head(long position, long segmentBase, long endOffset, long timestampMicros) {
    }

    private final Path dir;
    private final long segmentSize;
    private final ExecutorService background;
    private volatile Segment[] segments;
    private volatile Head head;
    private Future<Path> nextSegment;
    /** Where the writer's data ends in the active segment, for the pace of the preallocation. */
    private volatile long activeWritten;
    /** The writer waits for the next segment file: fill it at full speed. */
    private volatile boolean hurry;
    /** The log is closing: stop filling (the file is deleted). */
    private volatile boolean abandoned;

    Log(Path dir, long segmentSize, Segment[] segments, Head head) {
        this.dir = dir;
        this.segmentSize = segmentSize;
        this.segments = segments;
        this.head = head;
        this.background = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "reel-log-background");
            t.setDaemon(true);
            return t;
        });
    }

    public Path dir() {
        return dir;
    }

    public long segmentSize() {
        return segmentSize;
    }

    public Head head() {
        return head;
    }

    public void publishHead(Head newHead) {
        head = newHead;
    }

    public Segment[] segments() {
        return segments;
    }

    public Segment active() {
        Segment[] s = segments;
        return s[s.length - 1];
    }

    /** The segment whose range holds {@code position}, retained (release it), or null before the first segment. */
    public Segment acquire(long position) {
        while (true) {
            Segment[] s = segments;
            int lo = 0;
            int hi = s.length - 1;
            int found = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (s[mid].basePosition() <= position) {
                    found = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            if (found < 0) {
                return null;
            }
            if (s[found].retain()) {
                return s[found];
            }
        }
    }

    /** The segment after {@code segment} in the current list, retained, or null when it is the last. */
    public Segment acquireNext(Segment segment) {
        while (true) {
            Segment[] s = segments;
            Segment next = null;
            for (Segment candidate : s) {
                if (candidate.basePosition() > segment.basePosition()) {
                    next = candidate;
                    break;
                }
            }
            if (next == null || next.retain()) {
                return next;
            }
        }
    }

    /** The segment before {@code segment} in the current list, retained, or null when it is the first. */
    Segment acquirePrevious(Segment segment) {
        while (true) {
            Segment[] s = segments;
            Segment previous = null;
            for (Segment candidate : s) {
                if (candidate.basePosition() < segment.basePosition()) {
                    previous = candidate;
                } else {
                    break;
                }
            }
            if (previous == null || previous.retain()) {
                return previous;
            }
        }
    }

    /** Where readable data ends in {@code segment} as of {@code at}. */
    public long dataEnd(Segment segment, Head at) throws IOException {
        if (segment.basePosition() == at.segmentBase()) {
            return at.endOffset();
        }
        if (segment.basePosition() > at.segmentBase()) {
            return LogFormat.SEGMENT_HEADER_SIZE;
        }
        return offsetIndex(segment).dataEnd();
    }

    /** The segment's sparse index: the writer's for the active one; loaded or rebuilt for a sealed one. */
    public OffsetIndex offsetIndex(Segment segment) throws IOException {
        OffsetIndex index = segment.offsetIndex();
        return index != null ? index : rebuildIndexIfNeeded(dir, segment);
    }

    /** Loads a sealed segment's index file, or rebuilds (and rewrites) it when it is missing or fails its checks. */
    static OffsetIndex rebuildIndexIfNeeded(Path dir, Segment segment) throws IOException {
        synchronized (segment) {
            OffsetIndex index = segment.offsetIndex();
            if (index == null) {
                Path file = dir.resolve(LogFormat.indexFileName(segment.basePosition()));
                index = OffsetIndex.load(file, segment.basePosition(), segment.size());
                if (index == null) {
                    index = rebuildIndex(segment);
                    try {
                        index.write(file);
                    } catch (IOException e) {
                        LOG.warn("could not write the rebuilt offset index {}: {}; it will be rebuilt again on next use", file, e.toString());
                    }
                }
                segment.offsetIndex(index);
            }
            return index;
        }
    }

    /**
     * A read that started from an offset-index entry met a frame that does not check out. The index is derived
     * data, so rebuild it from the segment, which checks every frame: true when the segment is sound and the
     * index was wrong (now replaced, in memory and on disk); false when the index was right (the active
     * segment's, or one that matches the rebuild). Throws {@code CORRUPTED} when the segment itself is damaged.
     */
    public boolean healIndex(Segment segment) throws IOException {
        if (segment.basePosition() >= head.segmentBase()) {
            return false;
        }
        synchronized (segment) {
            OffsetIndex current = segment.offsetIndex();
            OffsetIndex rebuilt = rebuildIndex(segment);
            if (current != null && sameEntries(current, rebuilt)) {
                return false;
            }
            segment.offsetIndex(rebuilt);
            Path file = dir.resolve(LogFormat.indexFileName(segment.basePosition()));
            LOG.warn("the offset index {} pointed at a position where no frame starts; rebuilt it from its segment, which is sound", file);
            try {
                rebuilt.write(file);
            } catch (IOException e) {
                LOG.warn("could not write the rebuilt offset index {}: {}", file, e.toString());
            }
            return true;
        }
    }

    private static boolean sameEntries(OffsetIndex a, OffsetIndex b) {
        if (a.count() != b.count()) {
            return false;
        }
        for (int i = 0; i < a.count(); i++) {
            if (a.positionAt(i) != b.positionAt(i) || a.offsetAt(i) != b.offsetAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Scans a sealed segment, checking every frame, and builds its offset index. */
    public static OffsetIndex rebuildIndex(Segment segment) throws IOException {
        OffsetIndex index = OffsetIndex.empty(segment.basePosition());
        FrameReader reader = new FrameReader(segment, LogFormat.SEGMENT_HEADER_SIZE, segment.size(), 1 << 20, false);
        long previous = segment.basePosition() - 1;
        while (true) {
            FrameReader.Status status = reader.next();
            if (status == FrameReader.Status.END) {
                return index;
            }
            if (status != FrameReader.Status.FRAME) {
                throw Segment.damaged(segment.path(), reader.frameOffset(), previous + 1, "frame " + status.name().toLowerCase().replace('_', ' '));
            }
            RecordedEvent record = reader.record();
            if (record.position() <= previous) {
                throw Segment.damaged(segment.path(), reader.frameOffset(), previous + 1,
                    "position " + record.position() + " does not follow " + previous);
            }
            index.onFrame(record.position(), reader.frameOffset(), reader.frameEnd(), record.timestampMicros());
            previous = record.position();
        }
    }

    /**
     * Preallocates the next segment file while the active one fills, paced by it: the fill starts when the
     * active segment is an eighth full and keeps at most {@value #PACE_SLACK_BYTES} bytes ahead of a line that
     * reaches the whole segment when the active one is three quarters full. Zeros then go to the disk at about
     * 1.6 times the append rate, evenly, instead of a segment's worth in a burst that queues the writer's
     * forces behind it; and a roll finds the file ready. Not at once: a store that never grows past a few
     * megabytes should not write a segment of zeros. Writer thread, after each batch.
     */
    public void preallocateIfDue(long writeOffset) {
        activeWritten = writeOffset;
        if (nextSegment == null && writeOffset > segmentSize / 8) {
            Path file = dir.resolve(NEXT_SEGMENT_FILE);
            long start = writeOffset;
            long finish = Math.max(start + 1, segmentSize * 3 / 4);
            hurry = false;
            nextSegment = background.submit(() -> Segment.preallocate(file, segmentSize, () -> zerosAllowed(start, finish)));
        }
    }

    static final long PACE_SLACK_BYTES = 8L << 20;

    /** How many bytes of zeros the preallocation may have written by now; negative: stop. */
    private long zerosAllowed(long start, long finish) {
        if (abandoned) {
            return -1;
        }
        long written = activeWritten;
        if (hurry || written >= finish) {
            return Long.MAX_VALUE;
        }
        return PACE_SLACK_BYTES + (long) ((double) segmentSize * (written - start) / (finish - start));
    }

    /**
     * Seals the active segment at {@code dataEnd} and makes a new active segment at {@code nextBase}.
     * Writer thread; the head must already cover everything in the sealed segment.
     */
    /**
     * Removes the file of a segment whose roll failed (it may have been moved into place before the failure): left
     * there, recovery would take it for the log's end and hide or lose what the writer appends to the old one since.
     */
    private void discardSegmentFile(long base, IOException failure) {
        try {
            Files.deleteIfExists(dir.resolve(LogFormat.segmentFileName(base)));
            Directories.force(dir);
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    public Segment roll(long nextBase, long dataEnd) throws IOException {
        Segment sealed = active();
        OffsetIndex sealedIndex = sealed.offsetIndex();
        Path preallocated = takePreallocated();
        Segment created;
        try {
            created = Segment.create(dir, nextBase, segmentSize, preallocated);
        } catch (IOException e) {
            if (preallocated != null) {
                Files.deleteIfExists(preallocated);
            }
            discardSegmentFile(nextBase, e);
            throw e;
        }
        try {
            sealed.seal(dataEnd);
        } catch (IOException e) {
            created.release();
            discardSegmentFile(nextBase, e);
            throw e;
        }
        synchronized (this) {
            Segment[] current = segments;
            Segment[] next = Arrays.copyOf(current, current.length + 1);
            next[current.length] = created;
            segments = next;
        }
        if (sealedIndex != null) {
            Path indexFile = dir.resolve(LogFormat.indexFileName(sealed.basePosition()));
            background.execute(() -> {
                try {
                    sealedIndex.write(indexFile);
                } catch (IOException e) {
                    LOG.warn("could not write offset index {}: {}; it will be rebuilt on next use", indexFile, e.toString());
                }
            });
        }
        return created;
    }

    private Path takePreallocated() throws IOException {
        Future<Path> pending = nextSegment;
        nextSegment = null;
        if (pending == null) {
            return null;
        }
        hurry = true;
        try {
            return pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the next segment file", e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            LOG.warn("preallocating the next segment failed ({}); creating it now", cause.toString());
            return null;
        }
    }

    /**
     * Makes sure new appends go to a segment of the current format: an active segment of an older format (a
     * store written by an earlier release) is sealed where its data ends, and a new segment starts at the head;
     * one that holds no record yet is replaced by an empty segment of the current format. Before the writer starts.
     */
    void upgradeActive() throws IOException {
        Segment old = active();
        if (old.formatVersion() == LogFormat.FORMAT_VERSION) {
            return;
        }
        Head h = head;
        if (h.endOffset() > LogFormat.SEGMENT_HEADER_SIZE) {
            roll(h.position(), h.endOffset());
            head = new Head(h.position(), active().basePosition(), LogFormat.SEGMENT_HEADER_SIZE, h.timestampMicros());
            LOG.info("{} was written in format {}: sealed it; new appends go to {} in format {}", old, old.formatVersion(), active(),
                LogFormat.FORMAT_VERSION);
            return;
        }
        Segment[] current = segments;
        Path file = old.path();
        old.release();
        Files.delete(file);
        Segment fresh = Segment.create(dir, old.basePosition(), segmentSize, null);
        Segment[] next = current.clone();
        next[next.length - 1] = fresh;
        segments = next;
    }

    /** Puts a rewritten copy of a sealed segment in its place (scavenge); readers of the old one finish on it. */
    public synchronized void replaceSegment(Segment old, Segment replacement) {
        Segment[] current = segments;
        Segment[] next = current.clone();
        for (int i = 0; i < next.length; i++) {
            if (next[i] == old) {
                next[i] = replacement;
                segments = next;
                old.release();
                return;
            }
        }
        replacement.release();
        throw new IllegalStateException(old + " is no longer in the log");
    }

    /**
     * Removes the oldest segment and deletes its files (retention); false when {@code oldest} is not the
     * first sealed segment any more. Readers still holding it finish on the deleted file.
     */
    public synchronized boolean dropOldest(Segment oldest) throws IOException {
        Segment[] current = segments;
        if (current.length < 2 || current[0] != oldest) {
            return false;
        }
        segments = Arrays.copyOfRange(current, 1, current.length);
        Files.deleteIfExists(dir.resolve(LogFormat.indexFileName(oldest.basePosition())));
        Files.deleteIfExists(oldest.path());
        Directories.force(dir);
        oldest.release();
        return true;
    }

    @Override
    public void close() {
        abandoned = true;
        background.shutdown();
        try {
            if (!background.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("background segment work did not finish within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(dir.resolve(NEXT_SEGMENT_FILE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Segment s : segments) {
            s.release();
        }
    }
}
