package io.reel.transport.cluster;

import io.reel.proto.AppendBatchResult;
import io.reel.proto.ClusterEntry;
import io.reel.proto.ClusterMember;
import io.reel.proto.ClusterSnapshot;
import io.reel.store.ErrorCode;
import io.reel.store.EventStore;
import io.reel.store.ReelException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Reel log as Ratis' state machine: every committed entry is applied to this node's store by an
 * {@link EntryApplier}, and its outcomes go back to the submitting node as the entry's reply.
 *
 * <p><b>Snapshots</b> record the last applied term and index with the head the applied entries reached
 * ({@code ClusterSnapshot}) beside a copy of the store's segment files ({@link SnapshotStorage}). The store
 * forces its own log at least every {@code forceInterval}, so a snapshot names an entry applied at least two
 * such intervals ago: its records are durable, and Ratis may purge the log up to it. A follower further behind
 * than the leader's purged log is sent the leader's latest snapshot by Ratis and imports from it the records
 * it lacks ({@link #reinitialize()}).
 */
final class ReelStateMachine extends BaseStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(ReelStateMachine.class);

    /** An applied entry and the head it left, remembered until it is old enough to be a snapshot. */
    private record Applied(TermIndex termIndex, long head, long stamp, long appliedNanos) {
    }

    private final EventStore store;
    private final ApplyClock clock;
    private final Duration forceInterval;
    private final io.micrometer.core.instrument.Timer applyDuration;
    private final SnapshotStorage storage = new SnapshotStorage();
    private final java.util.concurrent.atomic.AtomicLong snapshotInstalls = new java.util.concurrent.atomic.AtomicLong();
    private final Map<String, ClusterMember> members = new ConcurrentHashMap<>();
    private final ArrayDeque<Applied> recent = new ArrayDeque<>();
    private volatile EntryApplier applier;
    private volatile long appliedHead;
    private final java.util.concurrent.atomic.AtomicLong leaderChanges = new java.util.concurrent.atomic.AtomicLong();

    ReelStateMachine(EventStore store, ApplyClock clock, Duration forceInterval, io.micrometer.core.instrument.Timer applyDuration) {
        this.store = store;
        this.applyDuration = applyDuration;
        this.clock = clock;
        this.forceInterval = forceInterval;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        reinitialize();
        if (getLifeCycleState() == LifeCycle.State.NEW) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    /**
     * Ratis (3.2.2) pauses the state machine for every chunk of a snapshot it receives from the leader, and its
     * updater checks that it is paused before {@link #reinitialize()}; BaseStateMachine's pause does nothing.
     * Once paused, the state machine stays paused: nothing else in Ratis reads the state, and a second snapshot
     * whose chunks arrive while the first is being loaded must find it paused when its own reload comes (resuming
     * after the first made Ratis' updater fail its check and close the server).
     */
    @Override
    public synchronized void pause() {
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /**
     * Loads the latest snapshot: at start, and after Ratis installed one sent by the leader (this node was
     * further behind than the leader's Raft log). When the store's head is behind the snapshot's (a node that
     * lagged, or whose data directory was wiped), the records it lacks are imported from the snapshot's copy
     * of the log, as they are: Raft makes this node's applied log a prefix of the leader's. The replicated
     * consumer groups are taken from the snapshot when its last group change is later than this node's.
     */
    @Override
    public void reinitialize() throws IOException {
        SnapshotStorage.Snapshot snapshot = storage.load();
        if (snapshot != null) {
            snapshot = loadReplaced(snapshot);
            // Ratis may finish installing a newer snapshot from the leader while this one loads, and its updater then
            // misses that reload (it marks itself running when this one ends) and waits for entries the newer
            // snapshot replaced: load the newest one before returning
            for (SnapshotStorage.Snapshot newer = storage.newerThan(snapshot.meta().termIndex().getIndex()); newer != null;
                newer = storage.newerThan(snapshot.meta().termIndex().getIndex())) {
                LOG.info("a newer snapshot {} arrived while {} loaded; loading it too", newer.meta().termIndex(), snapshot.meta().termIndex());
                snapshot = loadReplaced(newer);
            }
        }
        long head = snapshot == null ? 0 : snapshot.meta().snapshot().getHead();
        long stamp = snapshot == null ? 0 : snapshot.meta().snapshot().getStampMicros();
        applier = new EntryApplier(store, clock, head, stamp);
        appliedHead = head;
        synchronized (recent) {
            recent.clear();
        }
        LOG.info("state machine at {} (head {}); the store's head is {}", getLastAppliedTermIndex(), head, store.headPosition());
    }

    /**
     * Loads {@code snapshot}, or the one that replaced it: Ratis replaces the whole state machine directory when the
     * leader's next snapshot arrives, and a file gone while this one is staged is that, not damage (a few tries).
     */
    private SnapshotStorage.Snapshot loadReplaced(SnapshotStorage.Snapshot snapshot) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                load(snapshot);
                return snapshot;
            } catch (java.nio.file.NoSuchFileException replaced) {
                SnapshotStorage.Snapshot now = storage.load();
                if (attempt >= 5 || now == null) {
                    throw replaced;
                }
                LOG.info("snapshot {} was replaced while it loaded ({}); loading {}", snapshot.meta().termIndex(), replaced.getMessage(),
                    now.meta().termIndex());
                snapshot = now;
            }
        }
    }

    private void load(SnapshotStorage.Snapshot snapshot) throws IOException {
        ClusterSnapshot s = snapshot.meta().snapshot();
        long head = s.getHead();
        long storeHead = store.headPosition();
        boolean groups = store.settings().replicatedGroups() && java.nio.file.Files.isDirectory(snapshot.groupsDir());
        if (storeHead < head || groups) {
            // the leader may send a newer snapshot while this one loads, and Ratis then replaces the whole state
            // machine directory: read this one from hard links of its own
            Path staged = storage.stage(snapshot);
            try {
                if (storeHead < head) {
                    long start = System.nanoTime();
                    long imported = store.importLog(staged.resolve(SnapshotLayout.LOG_DIR), head);
                    snapshotInstalls.incrementAndGet();
                    LOG.info("imported {} records (positions {} to {}) from snapshot {} in {} ms", imported, storeHead, head - 1,
                        snapshot.meta().termIndex(), (System.nanoTime() - start) / 1_000_000);
                }
                if (groups && store.groups().restoreReplicatedState(staged.resolve(SnapshotLayout.GROUPS_DIR))) {
                    LOG.info("consumer groups taken from snapshot {}", snapshot.meta().termIndex());
                }
            } finally {
                storage.unstage(staged);
            }
        }
        members.clear();
        s.getMembersList().forEach(m -> members.put(m.getId(), m));
        setLastAppliedTermIndex(snapshot.meta().termIndex());
    }

    @Override
    public SnapshotStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        TermIndex termIndex = TermIndex.valueOf(entry);
        ClusterEntry decoded;
        try {
            decoded = ClusterEntry.parseFrom(entry.getStateMachineLogEntry().getLogData().toByteArray());
        } catch (IOException e) {
            // written by a node of another version, or damaged: the same on every replica, so skipping is safe
            LOG.error("entry {} is not a Reel cluster entry; skipped: {}", termIndex, e.toString());
            updateLastAppliedTermIndex(termIndex);
            return CompletableFuture.completedFuture(Message.EMPTY);
        }
        if (decoded.hasAnnounce()) {
            members.put(decoded.getAnnounce().getId(), decoded.getAnnounce());
        }
        long start = System.nanoTime();
        AppendBatchResult result = applyUntilWritten(decoded, termIndex);
        applyDuration.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        appliedHead = applier.appliedHead();
        synchronized (recent) {
            recent.addLast(new Applied(termIndex, appliedHead, applier.stamp(), System.nanoTime()));
            while (recent.size() > 4096) {
                recent.removeFirst();
            }
        }
        updateLastAppliedTermIndex(termIndex);
        return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(result.toByteArray())));
    }

    /**
     * Applies the entry; when the store cannot write it now (disk full, I/O error), waits and tries again,
     * because a replica that skipped a committed entry would no longer hold the others' log.
     */
    private AppendBatchResult applyUntilWritten(ClusterEntry entry, TermIndex termIndex) {
        long waitMillis = 100;
        while (true) {
            try {
                return applier.apply(entry, termIndex.getTerm(), termIndex.getIndex());
            } catch (ReelException e) {
                if (e.code() == ErrorCode.CLOSED || e.code() == ErrorCode.CORRUPTED) {
                    throw e;
                }
                LOG.error("cannot apply entry {} now, trying again in {} ms: {}", termIndex, waitMillis, e.getMessage());
                try {
                    Thread.sleep(waitMillis);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                waitMillis = Math.min(5_000, waitMillis * 2);
            }
        }
    }

    @Override
    public void notifyLeaderChanged(org.apache.ratis.protocol.RaftGroupMemberId groupMemberId, org.apache.ratis.protocol.RaftPeerId newLeaderId) {
        leaderChanges.incrementAndGet();
        LOG.info("leader is now {}", newLeaderId);
    }

    double leaderChanges() {
        return leaderChanges.get();
    }

    /** One past the last position the applied entries wrote. */
    long appliedHead() {
        return appliedHead;
    }

    Map<String, ClusterMember> members() {
        return members;
    }

    @Override
    public long takeSnapshot() throws IOException {
        Applied durable = null;
        long cutoff = System.nanoTime() - 2 * forceInterval.toNanos() - 50_000_000L;
        synchronized (recent) {
            while (!recent.isEmpty() && recent.peekFirst().appliedNanos() - cutoff <= 0) {
                durable = recent.removeFirst();
            }
            if (durable != null) {
                recent.addFirst(durable);
            }
        }
        SnapshotStorage.Snapshot latest = storage.latest();
        long latestIndex = latest == null ? RaftLogIndexNone.VALUE : latest.meta().termIndex().getIndex();
        if (durable == null || latestIndex >= durable.termIndex().getIndex()) {
            return latestIndex;
        }
        TermIndex ti = durable.termIndex();
        ClusterSnapshot snapshot = ClusterSnapshot.newBuilder().setHead(durable.head()).setStampMicros(durable.stamp()).addAllMembers(members.values()).build();
        long start = System.nanoTime();
        storage.write(ti, snapshot, store);
        LOG.info("snapshot at {} (head {}) in {} ms", ti, durable.head(), (System.nanoTime() - start) / 1_000_000);
        return ti.getIndex();
    }

    /** Snapshots this node installed from the leader and imported records from. */
    double snapshotInstalls() {
        return snapshotInstalls.get();
    }

    /** Ratis' "no index" value, named. */
    private static final class RaftLogIndexNone {
        static final long VALUE = -1;
    }
}
