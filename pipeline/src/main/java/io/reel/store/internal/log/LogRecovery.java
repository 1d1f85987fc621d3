package io.reel.store.internal.log;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the log: the visible, tested recovery procedure.
 *
 * <ol>
 *   <li>Remove leftover temporary files; open every segment and check its header.</li>
 *   <li>Scan the active (last) segment frame by frame: lengths, checksums, positions, whole appends.</li>
 *   <li>Compare the first problem with the durable point ({@link DurablePoint}). Past it, the bytes are an
 *       unacknowledged torn tail: cut them (zeroed, so the next write starts clean) with a WARN saying how
 *       many bytes went. Before it, acknowledged data is damaged: refuse to open with a {@code CORRUPTED}
 *       error naming file, offset and position, unless {@code repair} is set.</li>
 *   <li>With {@code repair}, every segment is scanned; a damaged one is copied to {@code quarantine/},
 *       rewritten with every frame that still checks out, and the number of positions lost is reported.</li>
 * </ol>
 * Sealed segments are not scanned on a normal open (that is {@code reel verify}'s job); reads check every
 * frame's checksum as they go and fail loudly on damage.
 */
public final class LogRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(LogRecovery.class);

    /** What opening found and did. */
    public record Outcome(Log log, long truncatedBytes, long lostEvents, List<String> repairs, long activeRecords, long nanos) {
    }

    private LogRecovery() {
    }

    public static Outcome open(Path dataDir, StoreSettings settings) throws IOException {
        long started = System.nanoTime();
        Path logDir = dataDir.resolve("log");
        Files.createDirectories(logDir);
        removeTemporaryFiles(logDir);
        List<Path> files = segmentFiles(logDir);
        DurablePoint.Point durable = DurablePoint.read(logDir);
        if (files.isEmpty()) {
            if (durable != null && durable.position() > 0) {
                throw new ReelException(ErrorCode.CORRUPTED, logDir + " holds no segment files, but " + DurablePoint.FILE_NAME
                    + " says " + durable.position() + " records were written; restore the directory from a backup");
            }
            Segment first = Segment.create(logDir, 0, settings.segmentSize(), null);
            Log log = new Log(logDir, settings.segmentSize(), new Segment[] {first}, new Log.Head(0, 0, LogFormat.SEGMENT_HEADER_SIZE, 0));
            return new Outcome(log, 0, 0, List.of(), 0, System.nanoTime() - started);
        }
        List<Segment> segments = new ArrayList<>();
        List<String> repairs = new ArrayList<>();
        long lost = 0;
        try {
            for (int i = 0; i < files.size(); i++) {
                boolean last = i == files.size() - 1;
                segments.add(openSegment(files.get(i), last));
            }
            sealInterruptedRoll(segments, settings.segmentSize());
            if (settings.repair()) {
                for (int i = 0; i < segments.size() - 1; i++) {
                    long upper = segments.get(i + 1).basePosition();
                    SegmentScan scan = SegmentScan.scan(segments.get(i), segments.get(i).size(), upper, true, true);
                    if (!scan.problems.isEmpty()) {
                        long missing = countMissing(scan, segments.get(i).basePosition(), upper);
                        segments.set(i, rewrite(dataDir, segments.get(i), scan, -1, repairs, missing));
                        lost += missing;
                    }
                }
            }
            Segment active = segments.get(segments.size() - 1);
            SegmentScan scan = SegmentScan.scan(active, Long.MAX_VALUE, Long.MAX_VALUE, false, false);
            long truncated = 0;
            long durablePosition = durable == null ? 0 : durable.position();
            boolean tailCounted = false;
            if (!scan.problems.isEmpty()) {
                SegmentScan.Problem problem = scan.problems.get(0);
                boolean acknowledged = durable != null && (durable.segmentBase() > active.basePosition()
                    || (durable.segmentBase() == active.basePosition() && problem.offset() < durable.offset())
                    || problem.position() < durable.position());
                if (acknowledged) {
                    if (!settings.repair()) {
                        throw Segment.damaged(active.path(), problem.offset(), problem.position(), problem.what()
                            + "; this is before the last durable point (position " + durable.position()
                            + "), so acknowledged events are affected");
                    }
                    SegmentScan full = SegmentScan.scan(active, Long.MAX_VALUE, Long.MAX_VALUE, true, true);
                    long missing = countMissing(full, active.basePosition(), Math.max(durable.position(), full.nextPosition));
                    active = rewrite(dataDir, active, full, settings.segmentSize(), repairs, missing);
                    segments.set(segments.size() - 1, active);
                    lost += missing;
                    tailCounted = true;
                    scan = SegmentScan.scan(active, Long.MAX_VALUE, Long.MAX_VALUE, false, false);
                } else {
                    truncated = cutTail(active, scan.dataEnd);
                    LOG.warn("recovery cut an unacknowledged torn tail of {} bytes from {} at offset {} (position {}): {}",
                        truncated, active.path(), scan.dataEnd, scan.nextPosition, problem.what());
                }
            }
            long headPosition = scan.nextPosition;
            if (durablePosition > headPosition) {
                if (!settings.repair()) {
                    throw new ReelException(ErrorCode.CORRUPTED, "the log ends at position " + headPosition + " but "
                        + DurablePoint.FILE_NAME + " says records up to " + (durablePosition - 1)
                        + " were acknowledged: the tail of " + active.path() + " is missing. Restore from a backup, or open with --repair to accept the loss");
                }
                if (!tailCounted) {
                    lost += durablePosition - headPosition;
                }
                repairs.add("positions " + headPosition + ".." + (durablePosition - 1) + " are missing from the end of the log; "
                    + "new appends continue at " + durablePosition);
                headPosition = durablePosition;
            }
            active.offsetIndex(scan.index);
            long timestamp = scan.lastTimestampMicros;
            if (timestamp == 0 && segments.size() > 1) {
                Segment previous = segments.get(segments.size() - 2);
                timestamp = Log.rebuildIndexIfNeeded(logDir, previous).lastTimestampMicros();
            }
            Log log = new Log(logDir, settings.segmentSize(), segments.toArray(new Segment[0]),
                new Log.Head(headPosition, active.basePosition(), scan.dataEnd, timestamp));
            for (String repair : repairs) {
                LOG.warn("repair: {}", repair);
            }
            return new Outcome(log, truncated, lost, repairs, scan.records, System.nanoTime() - started);
        } catch (IOException | RuntimeException e) {
            for (Segment s : segments) {
                s.release();
            }
            throw e;
        }
    }

    public static List<Path> segmentFiles(Path logDir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(logDir, "*" + LogFormat.SEGMENT_SUFFIX)) {
            for (Path p : stream) {
                if (LogFormat.baseOf(p) >= 0) {
                    files.add(p);
                }
            }
        }
        files.sort(Comparator.comparingLong(LogFormat::baseOf));
        return files;
    }

    private static void removeTemporaryFiles(Path logDir) throws IOException {
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(logDir, "*.tmp")) {
            for (Path p : stream) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Opens a segment; a last segment whose header was never written (a crash while creating it) gets one now. */
    private static Segment openSegment(Path file, boolean last) throws IOException {
        if (last && headerNeverWritten(file)) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ByteBuffer header = ByteBuffer.wrap(Segment.header(LogFormat.baseOf(file), System.currentTimeMillis()));
                while (header.hasRemaining()) {
                    ch.write(header, header.position());
                }
                ch.force(true);
            }
            LOG.warn("{} had no header (the store stopped while creating it); wrote one", file);
        }
        return Segment.open(file, last);
    }

    private static boolean headerNeverWritten(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(LogFormat.SEGMENT_HEADER_SIZE * 2);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // read the header and the first frame's start
            }
            for (int i = 0; i < b.position(); i++) {
                if (b.get(i) != 0) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * A roll creates the next segment, then seals the previous one by truncating it to its data. A crash
     * between the two leaves the previous segment at its preallocated size, zeros after its data, where a
     * sealed segment's reader expects frames up to the end of the file. Such a segment (the one before the
     * last, at the full segment size) is scanned and sealed now, when its data runs whole up to the next
     * segment's base; otherwise it is left for reads, {@code reel verify} and repair to report.
     */
    private static void sealInterruptedRoll(List<Segment> segments, long segmentSize) throws IOException {
        if (segments.size() < 2) {
            return;
        }
        Segment previous = segments.get(segments.size() - 2);
        if (previous.size() != segmentSize) {
            return;
        }
        long nextBase = segments.get(segments.size() - 1).basePosition();
        SegmentScan scan = SegmentScan.scan(previous, Long.MAX_VALUE, nextBase, false, false);
        if (scan.problems.isEmpty() && isUnsealedRoll(previous, scan, nextBase)) {
            try (FileChannel ch = FileChannel.open(previous.path(), StandardOpenOption.WRITE)) {   // opened read-only as sealed
                ch.truncate(scan.dataEnd);
                ch.force(true);
            }
            LOG.warn("recovery sealed {} at offset {}: the last roll was interrupted before it was sealed", previous.path(), scan.dataEnd);
        }
    }

    /** The segment holds every position up to {@code nextBase}, and only zeros after them: a roll never sealed. */
    public static boolean isUnsealedRoll(Segment segment, SegmentScan scan, long nextBase) throws IOException {
        long size = segment.size();
        if (scan.nextPosition != nextBase || scan.dataEnd >= size) {
            return false;
        }
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        for (long p = scan.dataEnd; p < size; p += chunk.capacity()) {
            chunk.clear();
            chunk.limit((int) Math.min(chunk.capacity(), size - p));
            int n = segment.read(chunk, p);
            byte[] a = chunk.array();
            for (int i = 0; i < n; i++) {
                if (a[i] != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Zeroes the bytes after {@code dataEnd} up to the first megabyte of zeros; returns how many were not zero. */
    static long cutTail(Segment segment, long dataEnd) throws IOException {
        long size = segment.size();
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        long lastNonZero = dataEnd;
        for (long p = dataEnd; p < size; p += chunk.capacity()) {
            chunk.clear();
            chunk.limit((int) Math.min(chunk.capacity(), size - p));
            int n = segment.read(chunk, p);
            int last = -1;
            byte[] a = chunk.array();
            for (int i = n - 1; i >= 0; i--) {
                if (a[i] != 0) {
                    last = i;
                    break;
                }
            }
            if (last < 0) {
                break;
            }
            lastNonZero = p + last + 1;
            java.util.Arrays.fill(a, 0, n, (byte) 0);
            chunk.position(0).limit(n);
            segment.write(chunk, p);
        }
        segment.channel().force(true);
        return lastNonZero - dataEnd;
    }

    /** Positions in [first, end) that a repair scan did not keep. */
    private static long countMissing(SegmentScan scan, long first, long end) {
        long kept = 0;
        for (SegmentScan.Frame f : scan.kept) {
            if (f.position() >= first && f.position() < end) {
                kept++;
            }
        }
        return Math.max(0, end - first - kept);
    }

    /**
     * Moves a damaged segment to {@code quarantine/} and puts in its place a copy holding every frame the scan
     * kept. {@code preallocateTo} > 0 pads the copy with zeros (for the active segment).
     */
    private static Segment rewrite(Path dataDir, Segment damaged, SegmentScan scan, long preallocateTo, List<String> repairs,
                                   long missing) throws IOException {
        Path quarantine = dataDir.resolve("quarantine");
        Files.createDirectories(quarantine);
        Path original = damaged.path();
        Path copy = original.resolveSibling(original.getFileName() + ".repair.tmp");
        try (FileChannel out = FileChannel.open(copy, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.wrap(Segment.header(damaged.basePosition(), System.currentTimeMillis())), 0);
            long at = LogFormat.SEGMENT_HEADER_SIZE;
            for (SegmentScan.Frame f : scan.kept) {
                ByteBuffer frame = ByteBuffer.allocate((int) (f.end() - f.offset()));
                damaged.read(frame, f.offset());
                frame.flip();
                while (frame.hasRemaining()) {
                    at += out.write(frame, at);
                }
            }
            if (preallocateTo > at) {
                ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
                while (at < preallocateTo) {
                    zeros.clear();
                    zeros.limit((int) Math.min(zeros.capacity(), preallocateTo - at));
                    at += out.write(zeros, at);
                }
            }
            out.force(true);
        }
        Path quarantined = quarantine.resolve(original.getFileName() + "." + System.currentTimeMillis());
        damaged.release();
        Files.move(original, quarantined, StandardCopyOption.ATOMIC_MOVE);
        Files.move(copy, original, StandardCopyOption.ATOMIC_MOVE);
        Files.deleteIfExists(original.resolveSibling(LogFormat.indexFileName(damaged.basePosition())));
        Directories.force(original.getParent());
        Directories.force(quarantine);
        StringBuilder what = new StringBuilder();
        for (SegmentScan.Problem p : scan.problems) {
            what.append(" [offset ").append(p.offset()).append(", position ").append(p.position()).append(": ").append(p.what()).append(']');
        }
        repairs.add(original.getFileName() + " was damaged" + what + "; the original is kept as " + quarantined + "; "
            + scan.kept.size() + " records were saved and " + missing + " lost");
        return Segment.open(original, preallocateTo > 0);
    }
}
