package io.reel.store;

import io.reel.store.internal.index.StreamIndex;
import io.reel.store.internal.log.AtomicFiles;
import io.reel.store.internal.log.Directories;
import io.reel.store.internal.log.DirectoryLock;
import io.reel.store.internal.log.DurablePoint;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.LogRecovery;
import io.reel.store.internal.log.OffsetIndex;
import io.reel.store.internal.log.Segment;
import io.reel.store.internal.log.SegmentScan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * Operations on a data directory from outside the store that owns it: {@link #verify}, {@link #backup},
 * {@link #restore} and {@link #stats}. None takes the directory's lock, so they run while a server is using
 * the directory; none changes it (but {@code restore}, which needs an empty target).
 */
public final class StoreAdmin {
    private StoreAdmin() {
    }

    /** A problem {@link #verify} found: the file, the byte offset in it, the position expected there and what is wrong. */
    public record Problem(Path file, long offset, long position, String what) {
        @Override
        public String toString() {
            return file + " at offset " + offset + (position >= 0 ? " (position " + position + ")" : "") + ": " + what;
        }
    }

    /**
     * What {@link #verify} found. Clean when there are no problems; notes are findings that lose nothing (an
     * unacknowledged tail that the next open cuts, a derived file that the next open rebuilds).
     */
    public record VerifyReport(int segments, long records, long bytes, long head, List<Problem> problems, List<String> notes) {
        public boolean clean() {
            return problems.isEmpty();
        }
    }

    /** What {@link #backup} copied: every record below {@code head}. */
    public record BackupReport(long head, int segments, long bytes, int files) {
    }

    /** A data directory at a glance. */
    public record Stats(long head, int segments, long bytes, long streams, long indexedUpTo, List<String> checkpoints, String lockHolder) {
    }

    /**
     * Checks every segment header and every frame's length, checksum and position, whole appends, the
     * contiguity of segments, the offset index files against their segments and the stream index checkpoint.
     */
    public static VerifyReport verify(Path dataDir) {
        return verify(dataDir, Progress.NONE);
    }

    /** As {@link #verify(Path)}, telling {@code progress} after each segment. */
    public static VerifyReport verify(Path dataDir, Progress progress) {
        try {
            Path logDir = dataDir.resolve("log");
            List<Problem> problems = new ArrayList<>();
            List<String> notes = new ArrayList<>();
            if (!Files.isDirectory(logDir)) {
                problems.add(new Problem(logDir, 0, -1, "there is no log directory: is this a Reel data directory?"));
                return new VerifyReport(0, 0, 0, 0, problems, notes);
            }
            List<Path> files = LogRecovery.segmentFiles(logDir);
            DurablePoint.Point durable = DurablePoint.read(logDir);
            long records = 0;
            long bytes = 0;
            long head = 0;
            long previousEnd = -1;
            long total = totalSize(files);
            long done = 0;
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                progress.update(new Progress.Step("verify", "bytes", done, total, i, files.size()));
                done += sizeOf(file);
                boolean last = i == files.size() - 1;
                long upper = last ? Long.MAX_VALUE : LogFormat.baseOf(files.get(i + 1));
                Segment segment;
                try {
                    segment = Segment.open(file, false);
                } catch (ReelException e) {
                    problems.add(new Problem(file, 0, LogFormat.baseOf(file), e.sentence()));
                    continue;
                }
                try {
                    long size = segment.size();
                    bytes += size;
                    if (previousEnd > segment.basePosition()) {
                        problems.add(new Problem(file, 0, segment.basePosition(), "the segment starts at position " + segment.basePosition()
                            + " but the previous one holds positions up to " + (previousEnd - 1)));
                    }
                    SegmentScan scan = SegmentScan.scan(segment, last ? Long.MAX_VALUE : size, upper, true, false);
                    records += scan.records;
                    boolean tailNoted = false;
                    boolean unsealedRoll = i == files.size() - 2 && LogRecovery.isUnsealedRoll(segment, scan, upper);
                    if (unsealedRoll) {
                        notes.add(file.getFileName() + ": the last roll stopped before sealing it (zeros after its data at offset "
                            + scan.dataEnd + "); the next open seals it");
                    }
                    for (SegmentScan.Problem p : unsealedRoll ? List.<SegmentScan.Problem>of() : scan.problems) {
                        boolean unacknowledged = last && (durable == null || p.position() >= durable.position());
                        if (!unacknowledged) {
                            problems.add(new Problem(file, p.offset(), p.position(), p.what()));
                        } else if (!tailNoted) {
                            tailNoted = true;
                            notes.add(file.getFileName() + ": an unacknowledged torn tail from offset " + p.offset()
                                + " (position " + p.position() + ", " + p.what() + "); the next open cuts it");
                        }
                    }
                    previousEnd = scan.nextPosition;
                    head = Math.max(head, scan.nextPosition);
                    if (!last) {
                        verifyOffsetIndex(logDir, segment, problems, notes);
                    }
                } finally {
                    segment.release();
                }
            }
            progress.update(new Progress.Step("verify", "bytes", total, total, files.size(), files.size()));
            if (durable != null && durable.position() > head) {
                problems.add(new Problem(logDir.resolve(DurablePoint.FILE_NAME), 0, durable.position(),
                    "records up to position " + (durable.position() - 1) + " were acknowledged but the log ends at " + head));
            }
            Path indexCheckpoint = dataDir.resolve("index").resolve(StreamIndex.CHECKPOINT_FILE);
            if (Files.exists(indexCheckpoint)) {
                StreamIndex index = StreamIndex.loadCheckpoint(indexCheckpoint.getParent());
                if (index == null) {
                    notes.add(indexCheckpoint + " fails its checks; the next open rebuilds the stream index from the log");
                } else if (index.indexedUpTo() > head) {
                    notes.add(indexCheckpoint + " covers positions beyond the log's end; the next open rebuilds it");
                }
            }
            return new VerifyReport(files.size(), records, bytes, head, problems, notes);
        } catch (IOException e) {
            throw new UncheckedIOException("verify of " + dataDir + " failed", e);
        }
    }

    private static void verifyOffsetIndex(Path logDir, Segment segment, List<Problem> problems, List<String> notes) throws IOException {
        Path file = logDir.resolve(LogFormat.indexFileName(segment.basePosition()));
        if (!Files.exists(file)) {
            return;
        }
        OffsetIndex stored = OffsetIndex.load(file, segment.basePosition(), segment.size());
        if (stored == null) {
            notes.add(file.getFileName() + " does not match its segment; the next open rebuilds it");
            return;
        }
        OffsetIndex rebuilt;
        try {
            rebuilt = Log.rebuildIndex(segment);
        } catch (ReelException e) {
            return;
        }
        boolean same = stored.count() == rebuilt.count();
        for (int i = 0; same && i < stored.count(); i++) {
            same = stored.positionAt(i) == rebuilt.positionAt(i) && stored.offsetAt(i) == rebuilt.offsetAt(i);
        }
        if (!same) {
            problems.add(new Problem(file, 0, segment.basePosition(), "the offset index disagrees with its segment (derived data: "
                + "delete the file and the next open rebuilds it)"));
        }
    }

    /**
     * Copies a data directory, consistently up to its head, while a store may be appending to it: sealed
     * segments as they are, the active one up to the end of its last whole append, the offset indexes, the
     * stream index checkpoint when it does not go past that head, checkpoints, snapshots and consumer groups (copied
     * before the segments are listed, so none is past the head). The copy gets a durable point at that head, so it
     * opens with everything in it acknowledged, and last a checksummed {@value #BACKUP_MANIFEST}: a backup without
     * one was interrupted.
     *
     * @param dest a directory that does not exist or is empty
     */
    public static BackupReport backup(Path dataDir, Path dest) {
        return backup(dataDir, dest, Progress.NONE);
    }

    /** As {@link #backup(Path, Path)}, telling {@code progress} after each segment. */
    public static BackupReport backup(Path dataDir, Path dest, Progress progress) {
        try {
            requireEmpty(dest, "backup destination");
            Path logDir = dataDir.resolve("log");
            Path destLog = dest.resolve("log");
            Files.createDirectories(destLog);
            // what refers to positions first, before the segments are even listed: none of it can then be past the head
            // this backup records (copied after a long copy of sealed segments, a checkpoint could point into a segment that
            // rolled meanwhile and is not in the backup)
            StreamIndex index = StreamIndex.loadCheckpoint(dataDir.resolve("index"));
            int referring = copyTree(dataDir.resolve("checkpoints"), dest.resolve("checkpoints"))
                + copyTree(dataDir.resolve("snapshots"), dest.resolve("snapshots"))
                + copyTree(dataDir.resolve("groups"), dest.resolve("groups"));
            List<Path> files = LogRecovery.segmentFiles(logDir);
            if (files.isEmpty()) {
                throw ReelException.invalidArgument(dataDir + " holds no log segments; nothing to back up");
            }
            long bytes = 0;
            int copied = referring;
            int segments = 0;
            long total = totalSize(files);
            for (int i = 0; i < files.size() - 1; i++) {
                progress.update(new Progress.Step("backup", "bytes", bytes, total, i, files.size()));
                try {
                    bytes += copy(files.get(i), destLog.resolve(files.get(i).getFileName()), Long.MAX_VALUE);
                    segments++;
                    copied++;
                } catch (NoSuchFileException gone) {
                    // dropped by retention after the listing: its records are legitimately gone
                    continue;
                }
                Path idx = logDir.resolve(LogFormat.indexFileName(LogFormat.baseOf(files.get(i))));
                if (Files.exists(idx)) {
                    copy(idx, destLog.resolve(idx.getFileName()), Long.MAX_VALUE);
                    copied++;
                }
            }
            Path active = files.get(files.size() - 1);
            long head;
            long activeEnd;
            Segment segment = Segment.open(active, false);
            try {
                SegmentScan scan = SegmentScan.scan(segment, Long.MAX_VALUE, Long.MAX_VALUE, false, false);
                head = scan.nextPosition;
                activeEnd = scan.dataEnd;
            } finally {
                segment.release();
            }
            progress.update(new Progress.Step("backup", "bytes", bytes, total, files.size() - 1, files.size()));
            bytes += copy(active, destLog.resolve(active.getFileName()), activeEnd);
            segments++;
            copied++;
            progress.update(new Progress.Step("backup", "bytes", total, total, files.size(), files.size()));
            try (DurablePoint point = DurablePoint.open(destLog)) {
                point.record(head, LogFormat.baseOf(active), activeEnd, true);
            }
            if (index != null && index.indexedUpTo() <= head) {
                Files.createDirectories(dest.resolve("index"));
                index.writeCheckpoint(dest.resolve("index"));   // the one loaded and checked: the file may have moved on since
                copied++;
            }
            Directories.force(destLog);
            Directories.force(dest);
            // last: a backup without it was interrupted, and restore refuses it
            writeManifest(dest, head, segments, bytes);
            return new BackupReport(head, segments, bytes, copied);
        } catch (IOException e) {
            throw ReelException.ofIo("backup of " + dataDir + " to " + dest + " failed: " + e, e);
        }
    }

    /**
     * Restores a backup into {@code dataDir}, which must not exist or be empty. Open the store (or verify) afterwards.
     * Refuses a backup with neither {@value #BACKUP_MANIFEST} nor a durable point ({@code INVALID_ARGUMENT}: it was
     * interrupted while its log was copied; one made before manifests is checked against its durable point), and fails
     * with {@code CORRUPTED} when the restored log does not end at the head the backup recorded.
     */
    public static void restore(Path backup, Path dataDir) {
        restore(backup, dataDir, Progress.NONE);
    }

    /** As {@link #restore(Path, Path)}, telling {@code progress} after each file of the backup's log. */
    public static void restore(Path backup, Path dataDir, Progress progress) {
        try {
            if (!Files.isDirectory(backup.resolve("log"))) {
                throw ReelException.invalidArgument(backup + " is not a Reel backup (it has no log directory)");
            }
            long expectedHead = expectedHead(backup);
            requireEmpty(dataDir, "restore target");
            Files.createDirectories(dataDir);
            List<Path> segmentFiles = LogRecovery.segmentFiles(backup.resolve("log"));
            long total = totalSize(segmentFiles);
            long[] done = {0};
            int[] segments = {0};
            progress.update(new Progress.Step("restore", "bytes", 0, total, 0, segmentFiles.size()));
            copyTree(backup, dataDir, file -> {
                if (segmentFiles.contains(file)) {
                    done[0] += sizeOf(file);
                    segments[0]++;
                    progress.update(new Progress.Step("restore", "bytes", Math.min(done[0], total), total, segments[0], segmentFiles.size()));
                }
            });
            progress.update(new Progress.Step("restore", "bytes", total, total, segmentFiles.size(), segmentFiles.size()));
            Files.deleteIfExists(dataDir.resolve(BACKUP_MANIFEST));
            Directories.force(dataDir);
            long restoredHead = activeHead(LogRecovery.segmentFiles(dataDir.resolve("log")));
            if (restoredHead != expectedHead) {
                throw new ReelException(ErrorCode.CORRUPTED, "the log restored into " + dataDir + " ends at position " + restoredHead
                    + ", but the backup " + backup + " recorded head " + expectedHead + "; the backup was changed or damaged since it was"
                    + " taken: restore an older backup, or take a new one");
            }
        } catch (IOException e) {
            throw ReelException.ofIo("restore of " + backup + " into " + dataDir + " failed: " + e, e);
        }
    }

    /** Head, segments, bytes and streams of a data directory, read without opening the store. */
    public static Stats stats(Path dataDir) {
        try {
            Path logDir = dataDir.resolve("log");
            List<Path> files = Files.isDirectory(logDir) ? LogRecovery.segmentFiles(logDir) : List.of();
            long bytes = 0;
            for (Path f : files) {
                bytes += Files.size(f);
            }
            long head = activeHead(files);
            StreamIndex index = StreamIndex.loadCheckpoint(dataDir.resolve("index"));
            Path subscriptions = dataDir.resolve("checkpoints").resolve("subscriptions");
            List<String> checkpoints = Files.isDirectory(subscriptions) ? CheckpointStore.open(subscriptions).names() : List.of();
            return new Stats(head, files.size(), bytes, index == null ? -1 : index.streamCount(), index == null ? -1 : index.indexedUpTo(),
                checkpoints, lockHolder(dataDir.resolve(DirectoryLock.FILE_NAME)));
        } catch (IOException e) {
            throw new UncheckedIOException("stats of " + dataDir + " failed", e);
        }
    }

    /**
     * Who holds {@code lock}, or null when nobody does. The probe is a shared lock on a read-only channel: it needs
     * no write permission on the file (an operator may run {@code reel stats} as a user who can only read the
     * directory), and a second probe running at the same moment holds a shared lock too, so the two do not take each
     * other for a server; the owner's exclusive lock ({@link DirectoryLock}) still refuses it. A starting server
     * whose own {@code tryLock} falls within the probe's few microseconds still fails with {@code LOCKED}, as it
     * would beside any other holder.
     */
    private static String lockHolder(Path lock) throws IOException {
        if (!Files.exists(lock)) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.READ)) {
            var l = ch.tryLock(0, Long.MAX_VALUE, true);
            if (l == null) {
                String text = Files.readString(lock).trim();
                return text.isEmpty() ? "another process" : text;
            }
            l.release();
            return null;
        } catch (java.nio.channels.OverlappingFileLockException e) {
            return "this process";
        }
    }

    /** The file a finished backup ends with: {@code head}, {@code segments} and {@code bytes}, checksummed. */
    public static final String BACKUP_MANIFEST = "backup.manifest";
    private static final long MANIFEST_MAGIC = 0x5245454C_424B5550L; // "REELBKUP"

    private static void writeManifest(Path dest, long head, int segments, long bytes) throws IOException {
        String text = "head=" + head + "\nsegments=" + segments + "\nbytes=" + bytes + "\n";
        AtomicFiles.write(dest.resolve(BACKUP_MANIFEST), MANIFEST_MAGIC, 1, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * The head a backup recorded: its manifest's, else (a backup taken before manifests, or one interrupted after its
     * log was whole) the durable point written right after the last segment. A backup with neither was interrupted
     * while its segments were copied, and is refused.
     */
    private static long expectedHead(Path backup) throws IOException {
        byte[] payload = AtomicFiles.read(backup.resolve(BACKUP_MANIFEST), MANIFEST_MAGIC, 1);
        if (payload == null) {
            DurablePoint.Point point = DurablePoint.read(backup.resolve("log"));
            if (point != null) {
                return point.position();
            }
            throw ReelException.invalidArgument(backup + " is an incomplete backup: it has neither " + BACKUP_MANIFEST + " nor a durable"
                + " point, which 'reel backup' writes once every segment is copied, so it was interrupted while copying the log; take"
                + " the backup again");
        }
        for (String line : new String(payload, java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("head=")) {
                return Long.parseLong(line.substring("head=".length()));
            }
        }
        throw new ReelException(ErrorCode.CORRUPTED, backup.resolve(BACKUP_MANIFEST) + " records no head");
    }

    /** The next position of the log whose segment files are {@code files} (0 when there are none), read from its last one. */
    private static long activeHead(List<Path> files) throws IOException {
        if (files.isEmpty()) {
            return 0;
        }
        Segment active = Segment.open(files.get(files.size() - 1), false);
        try {
            return SegmentScan.scan(active, Long.MAX_VALUE, Long.MAX_VALUE, false, false).nextPosition;
        } finally {
            active.release();
        }
    }

    private static void requireEmpty(Path dir, String what) throws IOException {
        if (Files.exists(dir)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                if (s.iterator().hasNext()) {
                    throw ReelException.invalidArgument("the " + what + " " + dir + " is not empty; give a new or empty directory");
                }
            }
        }
    }

    private static long copy(Path from, Path to, long limit) throws IOException {
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = Math.min(in.size(), limit);
            long done = 0;
            while (done < size) {
                long moved = in.transferTo(done, size - done, out);
                if (moved == 0) {
                    // the file shrank under the copy (a segment sealed by a roll cuts its preallocated zeros): what is left is
                    // zeros past its data
                    size = Math.min(in.size(), limit);
                    if (done >= size) {
                        break;
                    }
                }
                done += moved;
            }
            out.force(true);
            return size;
        }
    }

    private static long totalSize(List<Path> files) {
        long total = 0;
        for (Path f : files) {
            total += sizeOf(f);
        }
        return total;
    }

    /** A file's size, 0 when it is gone (retention may drop a segment while a backup runs). */
    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static int copyTree(Path from, Path to) throws IOException {
        return copyTree(from, to, file -> { });
    }

    private static int copyTree(Path from, Path to, java.util.function.Consumer<Path> copiedFile) throws IOException {
        if (!Files.isDirectory(from)) {
            return 0;
        }
        int[] count = {0};
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String name = file.getFileName().toString();
                if (name.endsWith(".tmp") || name.equals(DirectoryLock.FILE_NAME)) {
                    return FileVisitResult.CONTINUE;
                }
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                count[0]++;
                copiedFile.accept(file);
                return FileVisitResult.CONTINUE;
            }
        });
        return count[0];
    }
}
