package io.reel.transport.cluster;

import io.reel.proto.ClusterSnapshot;
import io.reel.store.EventStore;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's cluster snapshots in Ratis' state machine directory ({@link SnapshotLayout} has the layout). The latest
 * one is a {@link FileListSnapshotInfo} of its metadata file and its segment files, so that Ratis' leader sends
 * exactly these files to a follower that is further behind than its Raft log; the follower's Ratis writes them
 * into its own state machine directory and reinitializes the state machine, which imports the records it lacks
 * from them ({@link EventStore#importLog}).
 *
 * <p>Written and purged by the state machine's updater thread only; {@link #getLatestSnapshot()} is read by any.
 */
final class SnapshotStorage implements StateMachineStorage {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotStorage.class);

    /** The latest complete snapshot: its files for Ratis, its metadata and directory for the state machine. */
    record Snapshot(FileListSnapshotInfo info, SnapshotLayout.Meta meta, Path dir) {
        Path logDir() {
            return dir.resolve(SnapshotLayout.LOG_DIR);
        }

        /** The replicated consumer groups' files; absent in a snapshot of a node without groups. */
        Path groupsDir() {
            return dir.resolve(SnapshotLayout.GROUPS_DIR);
        }
    }

    /** Beside Ratis' {@code sm/}: where a snapshot being loaded is read from. */
    private static final String STAGING_DIR = "reel-snapshot-staging";

    private volatile Path smDir;
    private volatile Snapshot latest;

    @Override
    public void init(RaftStorage raftStorage) throws IOException {
        // absolute: Ratis sends a snapshot's files by their paths relative to this directory only when they are
        // absolute, and a follower refuses a relative one (`--data reel-data` would never rejoin)
        smDir = raftStorage.getStorageDir().getStateMachineDir().toPath().toAbsolutePath();
        Files.createDirectories(smDir);
        load();
    }

    /** Finds the newest trustworthy snapshot on disk again (after Ratis installed one from the leader, too). */
    Snapshot load() throws IOException {
        latest = scan();
        return latest;
    }

    /**
     * The newest trustworthy snapshot on disk when it is later than entry {@code index} (made the latest), else
     * null and the latest unchanged: also while Ratis has moved the directory aside to put a new one in place.
     */
    Snapshot newerThan(long index) throws IOException {
        Snapshot found = scan();
        if (found == null || found.meta().termIndex().getIndex() <= index) {
            return null;
        }
        latest = found;
        return found;
    }

    private Snapshot scan() throws IOException {
        if (!Files.isDirectory(smDir)) {
            return null;
        }
        List<String> names;
        try {
            names = names();
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
        for (String name : SnapshotLayout.newestFirst(names)) {
            Path dir = smDir.resolve(name);
            TermIndex ti = SnapshotLayout.parse(name);
            try {
                SnapshotLayout.Meta meta = SnapshotLayout.decodeMeta(Files.readAllBytes(dir.resolve(SnapshotLayout.META_FILE)), ti);
                return new Snapshot(new FileListSnapshotInfo(files(dir), ti), meta, dir);
            } catch (IllegalArgumentException | IOException e) {
                LOG.error("snapshot {} is ignored: its {} cannot be trusted ({}); an older snapshot, or none, is used", dir,
                    SnapshotLayout.META_FILE, e.getMessage());
            }
        }
        return null;
    }

    Snapshot latest() {
        return latest;
    }

    @Override
    public FileListSnapshotInfo getLatestSnapshot() {
        Snapshot s = latest;
        return s == null ? null : s.info();
    }

    /**
     * Writes a snapshot of entry {@code ti}: the store's segment files as they stand now (they hold at least
     * {@code snapshot.getHead()}, the head the entries up to {@code ti} left) and the metadata; then purges all
     * but the {@value SnapshotLayout#KEEP} newest.
     */
    Snapshot write(TermIndex ti, ClusterSnapshot snapshot, EventStore store) throws IOException {
        Path dir = smDir.resolve(SnapshotLayout.dirName(ti));
        Path tmp = smDir.resolve(SnapshotLayout.dirName(ti) + SnapshotLayout.TMP_SUFFIX);
        deleteTree(tmp);
        Files.createDirectories(tmp);
        long copied = store.copyLog(tmp.resolve(SnapshotLayout.LOG_DIR));
        if (copied < snapshot.getHead()) {
            throw new IOException("the store's head " + copied + " is behind the snapshot's head " + snapshot.getHead());
        }
        if (store.settings().replicatedGroups()) {
            store.groups().copyReplicatedState(tmp.resolve(SnapshotLayout.GROUPS_DIR));
        }
        Path meta = tmp.resolve(SnapshotLayout.META_FILE);
        Files.write(meta, SnapshotLayout.encodeMeta(new SnapshotLayout.Meta(ti, snapshot)));
        force(meta);
        force(tmp);
        deleteTree(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        force(smDir);
        latest = new Snapshot(new FileListSnapshotInfo(files(dir), ti), new SnapshotLayout.Meta(ti, snapshot), dir);
        purge(SnapshotLayout.KEEP);
        return latest;
    }

    /**
     * Hard links of {@code snapshot}'s files (forced first) in a directory beside the state machine directory (the
     * same file system, so linking cannot fail for lack of support), which Ratis replaces whole when the next
     * snapshot from the leader arrives.
     */
    Path stage(Snapshot snapshot) throws IOException {
        Path staged = smDir.resolveSibling(STAGING_DIR);
        deleteTree(staged);
        List<Path> links = new ArrayList<>();
        try (Stream<Path> files = Files.walk(snapshot.dir())) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path target = staged.resolve(snapshot.dir().relativize(file).toString());
                Files.createDirectories(target.getParent());
                Files.createLink(target, file);
                links.add(target);
            }
        } catch (java.io.UncheckedIOException walking) {
            throw walking.getCause();   // a directory gone while walked: the caller tells a replaced snapshot by it
        }
        // a snapshot from the leader is written by Ratis without a force, and Ratis purges its own log up to it once
        // it is loaded: its files are forced before its records are imported (through the links: the same inodes, and
        // files Ratis cannot replace under us while it installs a newer snapshot)
        for (Path link : links) {
            force(link);
        }
        for (Path dir : List.of(snapshot.dir(), smDir)) {
            try {
                force(dir);
            } catch (IOException replaced) {
                LOG.debug("cannot force {} (a newer snapshot replaced it): {}", dir, replaced.toString());
            }
        }
        return staged;
    }

    void unstage(Path staged) {
        try {
            deleteTree(staged);
        } catch (IOException e) {
            LOG.warn("cannot delete {} (it is deleted at the next snapshot load): {}", staged, e.toString());
        }
    }

    @Override
    public void format() {
        // nothing to prepare: snapshot directories are created as they are written
    }

    @Override
    public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
        purge(Math.max(SnapshotLayout.KEEP, policy == null ? 0 : policy.getNumSnapshotsRetained()));
    }

    /**
     * How long a snapshot outlives being one of the newest: the leader may still be sending it to a follower (Ratis opens
     * its files one after the other as it sends), and one deleted under it makes that install start over, for ever
     * under load. Its sealed segments are hard links shared with the store; its copy of the active segment is what it costs.
     */
    private static final java.time.Duration GRACE = java.time.Duration.ofMinutes(10);

    private void purge(int keep) throws IOException {
        long youngest = System.currentTimeMillis() - GRACE.toMillis();
        for (String name : SnapshotLayout.toPurge(names(), keep)) {
            Path dir = smDir.resolve(name);
            if (!name.endsWith(SnapshotLayout.TMP_SUFFIX) && Files.getLastModifiedTime(dir).toMillis() > youngest) {
                continue;
            }
            deleteTree(dir);
            LOG.debug("purged snapshot {}", name);
        }
    }

    private List<String> names() throws IOException {
        try (Stream<Path> list = Files.list(smDir)) {
            return list.filter(Files::isDirectory).map(p -> p.getFileName().toString()).toList();
        }
    }

    /** The files Ratis sends: the metadata first, then the segments in position order. */
    private static List<FileInfo> files(Path dir) throws IOException {
        List<FileInfo> out = new ArrayList<>();
        out.add(new FileInfo(dir.resolve(SnapshotLayout.META_FILE), null));
        Path log = dir.resolve(SnapshotLayout.LOG_DIR);
        if (Files.isDirectory(log)) {
            try (Stream<Path> segments = Files.list(log)) {
                segments.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().forEach(p -> out.add(new FileInfo(p, null)));
            }
        }
        Path groups = dir.resolve(SnapshotLayout.GROUPS_DIR);
        if (Files.isDirectory(groups)) {
            try (Stream<Path> files = Files.walk(groups)) {
                files.filter(Files::isRegularFile).sorted().forEach(p -> out.add(new FileInfo(p, null)));
            }
        }
        return out;
    }

    private static void force(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

}
