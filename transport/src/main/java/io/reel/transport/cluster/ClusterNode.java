package io.reel.transport.cluster;

import io.reel.proto.AppendBatchResult;
import io.reel.proto.ClusterEntry;
import io.reel.proto.ClusterInfo;
import io.reel.proto.ClusterMember;
import io.reel.proto.ClusterWrite;
import io.reel.store.AppendResult;
import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import io.reel.store.StreamMetadata;
import io.reel.transport.Replication;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * A Reel cluster node: a Raft server (Apache Ratis, the only place Ratis is used) whose state machine is this
 * node's store, and a Raft client through which the node submits the writes its clients send, so that any
 * node accepts writes. Reads do not pass here: every node serves them from its own store.
 *
 * <p>Use: {@link #create}, open the store with {@link #storeSettings} (the clock that makes replicas
 * byte-identical, and a store that forces on its own schedule: the Raft log is the write-ahead log), then
 * {@link #start}, and once the RSocket server is bound {@link #announce} its addresses. Thread-safe.
 */
public final class ClusterNode implements Replication, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    private static final RaftGroupId GROUP = RaftGroupId.valueOf(UUID.nameUUIDFromBytes("reel-cluster".getBytes(StandardCharsets.UTF_8)));
    /** The store's force interval: records are durable in the Raft log first; this bounds what a snapshot may name. */
    static final Duration FORCE_INTERVAL = Duration.ofMillis(100);
    private static final int MAX_WRITES_PER_ENTRY = 512;
    private static final int MAX_ENTRY_BYTES = 4 * 1024 * 1024;
    /**
     * The largest write a node submits: above an RSocket frame (16 MiB), so that any append a client can send fits.
     * An entry holds at most {@link #MAX_ENTRY_BYTES} of writes, or one larger write alone.
     */
    static final int MAX_WRITE_BYTES = 17 * 1024 * 1024;
    /**
     * Ratis' limit on one log entry (its appender buffer, default 4 MB): an entry above it is refused with a
     * request that the leader step down, so it is set above the largest entry a node makes (one write of
     * {@link #MAX_WRITE_BYTES} and the entry's own fields). Ratis' log write buffer and gRPC message limit follow it.
     */
    private static final int RAFT_ENTRY_LIMIT = MAX_WRITE_BYTES + (1 << 20);
    /**
     * One entry in flight per node: the writes that arrive meanwhile form the next, so under load entries are as
     * large as the load allows, and a cluster on few cores spends its CPU per entry (Raft, gRPC, an apply on every
     * node) once for many writes. Warm, on two cores (`reel bench cluster`, 64 producers): 7.4 k events/s with
     * one, 5.7 k with two; with several nodes taking writes, each has its own.
     */
    private static final int MAX_ENTRIES_IN_FLIGHT = 1;
    private static final int QUEUE_CAPACITY = 20_000;
    /** The largest Raft log segment (Ratis' default); smaller with frequent snapshots ({@link #raftSegmentBytes}). */
    private static final long MAX_RAFT_SEGMENT_BYTES = 8L << 20;

    private final ClusterSettings settings;
    private final ApplyClock clock = new ApplyClock(Clock.systemUTC());
    private final RaftGroup group;
    private EventStore store;
    private ReelStateMachine stateMachine;
    private volatile RaftServer server;
    private volatile RaftClient client;
    private EntryGatherer gatherer;
    private volatile ClusterMember self;
    /**
     * Watches this node's role and starts or stops the consumer groups on it (they run on the leader only), and, on
     * the leader, its Raft appenders ({@link #watchAppenders}).
     */
    private java.util.concurrent.ScheduledExecutorService groupWatch;
    /** How long a leader's appender may send nothing to a follower before it is taken for dead (see watchAppenders). */
    private static final Duration APPENDER_SILENCE = Duration.ofSeconds(15);
    private volatile long lastHandOffNanos = System.nanoTime() - Duration.ofMinutes(5).toNanos();
    private boolean leadingGroups;
    /** From an entry's submission to its reply: replication, a majority's forced Raft log, the leader's apply. */
    private io.micrometer.core.instrument.Timer entryLatency;
    private io.micrometer.core.instrument.DistributionSummary entryWrites;

    private ClusterNode(ClusterSettings settings) {
        this.settings = settings;
        List<RaftPeer> peers = new ArrayList<>();
        settings.peers().forEach((id, address) -> peers.add(RaftPeer.newBuilder().setId(id).setAddress(address)
            .setStartupRole(RaftPeerRole.FOLLOWER).build()));
        settings.listeners().forEach((id, address) -> peers.add(RaftPeer.newBuilder().setId(id).setAddress(address)
            .setStartupRole(RaftPeerRole.LISTENER).build()));
        this.group = RaftGroup.valueOf(GROUP, peers);
        this.self = ClusterMember.newBuilder().setId(settings.nodeId()).setRaft(settings.raftAddress()).build();
    }

    public static ClusterNode create(ClusterSettings settings) {
        return new ClusterNode(settings);
    }

    /**
     * The store settings of a cluster node: {@code base} with the node's apply clock and a store that writes
     * each entry without a force of its own (it is forced every 100 ms; the Raft log is the write-ahead log).
     */
    public StoreSettings storeSettings(StoreSettings base) {
        return base.toBuilder().clock(clock).timerClock(base.clock()).entryOrigin(clock).durability(Durability.batched(FORCE_INTERVAL)).replicatedGroups(true).build();
    }

    /** Starts the Raft server on {@code raftDir} (its log and snapshots) and the client; returns at once. */
    public void start(EventStore store, Path raftDir) {
        if (store.settings().clock() != clock) {
            throw new IllegalArgumentException("open the store with ClusterNode.storeSettings(...)");
        }
        if (MAX_WRITES_PER_ENTRY > store.settings().writerQueueCapacity()) {
            throw new IllegalArgumentException("the store's writer queue must hold a whole entry (" + MAX_WRITES_PER_ENTRY + " writes)");
        }
        this.store = store;
        try {
            Files.createDirectories(raftDir);
            RaftProperties properties = new RaftProperties();
            RaftServerConfigKeys.setStorageDir(properties, List.of(raftDir.toFile()));
            int port = Integer.parseInt(settings.raftAddress().substring(settings.raftAddress().lastIndexOf(':') + 1));
            GrpcConfigKeys.Server.setPort(properties, port);
            long election = settings.electionTimeout().toMillis();
            RaftServerConfigKeys.Rpc.setTimeoutMin(properties, TimeDuration.valueOf(election, TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.Rpc.setTimeoutMax(properties, TimeDuration.valueOf(2 * election, TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(Math.max(3000, 2 * election), TimeUnit.MILLISECONDS));
            // Ratis' appender sleeps until this long after its last send before each send (the entries are already
            // chosen): 10 ms only added latency once no thread was started per async step (see ReelCommand) —
            // `reel bench cluster`, 1 producer: p50 20 ms at 10 ms, 7 ms at 0; 64 producers: the same rate either way
            RaftServerConfigKeys.Log.Appender.setWaitTimeMin(properties, TimeDuration.valueOf(1, TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.Log.Appender.setBufferByteLimit(properties, SizeInBytes.valueOf(RAFT_ENTRY_LIMIT));
            RaftServerConfigKeys.Log.setWriteBufferSize(properties, SizeInBytes.valueOf(RAFT_ENTRY_LIMIT + (64 << 10)));
            GrpcConfigKeys.setMessageSizeMax(properties, SizeInBytes.valueOf(RAFT_ENTRY_LIMIT + (4 << 20)));
            RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
            RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, settings.snapshotEvery());
            // a snapshot holds a copy of the store's segments: the leader sends it to a follower that is further
            // behind than its Raft log (or starts on an empty directory), which imports the records it lacks
            RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(properties, true);
            // purge up to the snapshot even while a follower is down: it installs the snapshot when it returns.
            // Raft log segments of at most RAFT_SEGMENT_BYTES, so that a purge frees space soon after a snapshot
            RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(properties, true);
            RaftServerConfigKeys.Log.setPurgeGap(properties, (int) Math.min(1024, settings.snapshotEvery()));
            long segmentBytes = raftSegmentBytes(settings.snapshotEvery());
            RaftServerConfigKeys.Log.setSegmentSizeMax(properties, SizeInBytes.valueOf(segmentBytes));
            RaftServerConfigKeys.Log.setPreallocatedSize(properties, SizeInBytes.valueOf(Math.min(segmentBytes, 4L << 20)));
            RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(properties,
                TimeDuration.valueOf(Math.max(3000, 3 * election), TimeUnit.MILLISECONDS));
            io.micrometer.core.instrument.MeterRegistry registry = store.settings().meterRegistry();
            entryLatency = io.micrometer.core.instrument.Timer.builder("reel.cluster.entry.latency")
                .description("From sending an entry this node gathered to its reply: commit by a majority and apply on the leader")
                .publishPercentiles(0.5, 0.99).register(registry);
            entryWrites = io.micrometer.core.instrument.DistributionSummary.builder("reel.cluster.entry.writes")
                .description("Writes per entry this node sends").register(registry);
            stateMachine = new ReelStateMachine(store, clock, FORCE_INTERVAL, io.micrometer.core.instrument.Timer
                .builder("reel.cluster.apply.duration").description("How long applying one committed entry to this node's store takes")
                .publishPercentiles(0.5, 0.99).register(registry));
            server = RaftServer.newBuilder().setGroup(group).setProperties(properties).setServerId(RaftPeerId.valueOf(settings.nodeId()))
                .setStateMachine(stateMachine).setOption(RaftStorage.StartupOption.RECOVER).build();
            if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() < 2) {
                LOG.warn("the JDK's common pool has fewer than two threads here, so CompletableFuture starts a thread for each of"
                    + " Ratis' async steps, which costs much CPU under load: start this JVM with"
                    + " -Djava.util.concurrent.ForkJoinPool.common.parallelism=2");
            }
            server.start();
            client = newClient();
            gatherer = new EntryGatherer(this::send, () -> micros(Instant.now()), MAX_WRITES_PER_ENTRY,
                Math.min(MAX_ENTRY_BYTES, (int) Math.min(Integer.MAX_VALUE, store.settings().writerQueueBytes() / 2)),
                MAX_ENTRIES_IN_FLIGHT, QUEUE_CAPACITY);
            registerMeters(store.settings().meterRegistry());
            store.groups().replicateThrough(new GroupReplicator());
            groupWatch = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "reel-cluster-groups");
                t.setDaemon(true);
                return t;
            });
            groupWatch.scheduleWithFixedDelay(this::watchGroups, 200, 200, TimeUnit.MILLISECONDS);
            groupWatch.scheduleWithFixedDelay(this::watchAppenders, 1, 1, TimeUnit.SECONDS);
        } catch (IOException e) {
            close();
            throw new ReelException(ErrorCode.IO_ERROR, "cannot start the Raft server of node '" + settings.nodeId() + "' on "
                + settings.raftAddress() + ": " + e.getMessage(), e);
        }
        LOG.info("node {} serves Raft on {} among {}", settings.nodeId(), settings.raftAddress(), group.getPeers());
    }

    /**
     * A purge removes whole closed Raft log segments only, so segments much larger than what a snapshot interval
     * writes would keep the log long after the snapshot: about 400 bytes per entry between snapshots, 1–8 MiB.
     */
    static long raftSegmentBytes(long snapshotEvery) {
        return Math.max(1L << 20, Math.min(MAX_RAFT_SEGMENT_BYTES, snapshotEvery * 400));
    }

    /** {@code reel.cluster.*}: role, term, commit and apply progress, elections, writes waiting. */
    private void registerMeters(io.micrometer.core.instrument.MeterRegistry registry) {
        io.micrometer.core.instrument.Gauge.builder("reel.cluster.leader", this, n -> n.gauge(() -> division().isLeader() ? 1 : 0))
            .description("1 while this node is the leader, else 0").register(registry);
        io.micrometer.core.instrument.Gauge.builder("reel.cluster.term", this, n -> n.gauge(() -> division().getCurrentTerm()))
            .description("The Raft term this node is in").register(registry);
        io.micrometer.core.instrument.Gauge.builder("reel.cluster.commit.index", this, n -> n.gauge(n::commitIndex))
            .description("The last Raft index this node knows to be committed").register(registry);
        io.micrometer.core.instrument.Gauge.builder("reel.cluster.applied.index", this, n -> n.gauge(() -> division().getLastAppliedIndex()))
            .description("The last Raft index this node applied to its store").register(registry);
        io.micrometer.core.instrument.Gauge.builder("reel.cluster.apply.lag", this, n -> n.gauge(() -> n.commitIndex() - division().getLastAppliedIndex()))
            .description("Committed entries this node has not applied yet").register(registry);
        io.micrometer.core.instrument.Gauge.builder("reel.cluster.queued.writes", this, ClusterNode::queuedWrites)
            .description("Writes this node received that wait to be sent in an entry").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("reel.cluster.leader.changes", stateMachine, ReelStateMachine::leaderChanges)
            .description("Leader changes this node has seen (elections)").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("reel.cluster.snapshot.installs", stateMachine, ReelStateMachine::snapshotInstalls)
            .description("Snapshots this node imported records from: sent by the leader because it was further behind than the Raft log")
            .register(registry);
    }

    private double gauge(java.util.function.LongSupplier value) {
        try {
            return server == null ? Double.NaN : value.getAsLong();
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    private long commitIndex() {
        try {
            return server.getDivision(GROUP).getRaftLog().getLastCommittedIndex();
        } catch (IOException e) {
            throw new ReelException(ErrorCode.UNAVAILABLE, "the Raft server is not running: " + e.getMessage(), e);
        }
    }

    /** The index of the last entry in this node's Raft log (what a follower's match index is measured against). */
    private long lastIndex() {
        try {
            return server.getDivision(GROUP).getRaftLog().getLastEntryTermIndex() == null ? 0
                : server.getDivision(GROUP).getRaftLog().getLastEntryTermIndex().getIndex();
        } catch (IOException e) {
            throw new ReelException(ErrorCode.UNAVAILABLE, "the Raft server is not running: " + e.getMessage(), e);
        }
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    private CompletableFuture<AppendBatchResult> send(ClusterEntry entry) {
        long start = System.nanoTime();
        if (entry.getWritesCount() > 0) {
            entryWrites.record(entry.getWritesCount());
        }
        RaftClient c = client;
        return c.async().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(entry.toByteArray())))
            .whenComplete((r, e) -> {
                entryLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                if (e != null) {
                    renewClient(c, e);
                }
            }).thenApply(ClusterNode::decode);
    }

    /** A Raft client that retries with a pause (the default policy spins while there is no leader). */
    private RaftClient newClient() {
        RaftProperties clientProperties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(clientProperties, TimeDuration.valueOf(3, TimeUnit.SECONDS));
        return RaftClient.newBuilder().setProperties(clientProperties).setRaftGroup(group)
            .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                (int) Math.max(10, settings.requestTimeout().toMillis() / 200), TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
            .build();
    }

    /**
     * Replaces {@code broken} once its retries ran out: Ratis then closes the client's ordered request window for
     * good, so after a spell without a quorum every later write would fail although the cluster is back.
     */
    private void renewClient(RaftClient broken, Throwable error) {
        if (!causedBy(error, RaftRetryFailureException.class) && !causedBy(error, AlreadyClosedException.class)) {
            return;
        }
        synchronized (this) {
            if (client != broken || server == null) {
                return;
            }
            client = newClient();
        }
        LOG.info("the Raft client gave up ({}); writes go through a new one", error.toString());
        // not on this thread: it is Ratis' (a timer or gRPC thread), and closing waits for the client's channels
        Thread closer = new Thread(() -> {
            try {
                broken.close();
            } catch (IOException | RuntimeException e) {
                LOG.debug("closing the old Raft client: {}", e.toString());
            }
        }, "reel-raft-client-close");
        closer.setDaemon(true);
        closer.start();
    }

    private static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static AppendBatchResult decode(RaftClientReply reply) {
        if (!reply.isSuccess()) {
            throw EntryGatherer.unavailable(reply.getException() != null ? reply.getException()
                : new IOException("the entry was not committed"));
        }
        try {
            return AppendBatchResult.parseFrom(reply.getMessage().getContent().toByteArray());
        } catch (IOException e) {
            throw new ReelException(ErrorCode.INTERNAL, "the cluster's reply is not an AppendBatchResult: " + e, e);
        }
    }

    /**
     * Tells the cluster where this node's clients connect (replicated, so every node can name the leader's
     * address); retried in the background until a leader takes it.
     */
    public void announce(String rsocket, String http) {
        self = self.toBuilder().setRsocket(rsocket).setHttp(http).build();
        ClusterEntry entry = ClusterEntry.newBuilder().setTimestampMicros(micros(Instant.now())).setAnnounce(self).build();
        Mono.defer(() -> Mono.fromFuture(send(entry)))
            .retryWhen(Retry.fixedDelay(Long.MAX_VALUE, Duration.ofSeconds(1)).filter(e -> server != null))
            .subscribe(r -> LOG.debug("announced {}", rsocket), e -> LOG.debug("announce stopped: {}", e.toString()));
    }

    /** This node's Raft address as the server bound it. */
    public String raftAddress() {
        return settings.raftAddress();
    }

    // ------------------------------------------------------------------------------------------ groups

    /**
     * Groups run on the leader once it has applied every entry committed before its term (its first entry is
     * committed and applied, so the group files hold every earlier progress), and stop on any other role.
     */
    private void watchGroups() {
        try {
            if (server == null) {
                return;
            }
            DivisionInfo info = division();
            // ready: the first entry of its term is applied, so every group change of the terms before it is too (waiting
            // for the applied index to reach the commit index could wait for ever while appends keep coming)
            boolean lead = info.isLeader() && info.isLeaderReady();
            if (lead && !leadingGroups) {
                store.groups().lead();
                leadingGroups = true;
            } else if (!info.isLeader() && leadingGroups) {
                leadingGroups = false;
                store.groups().follow(notLeader("the consumer groups"));
            }
        } catch (RuntimeException e) {
            LOG.warn("cannot check this node's role for the consumer groups: {}", e.toString());
        }
    }

    /**
     * Works around a Ratis 3.2.2 race: when a follower that was wiped answers with INCONSISTENCY while the leader's
     * log no longer holds the index it falls back to, the leader's appender for it dies ("Log entry not found") and
     * is not restarted, so that follower hears nothing until the leader changes. A live appender sends to its
     * follower at least every few seconds, even to a dead one (it backs off to 5 s); one silent for longer has
     * died, and this leader hands leadership to a follower it does reach, whose appenders start afresh.
     */
    private void watchAppenders() {
        try {
            RaftServer s = server;
            if (s == null || System.nanoTime() - lastHandOffNanos < APPENDER_SILENCE.toNanos() * 2) {
                return;
            }
            DivisionInfo info = s.getDivision(GROUP).getInfo();
            RoleInfoProto role = info.getRoleInfoProto();
            if (!info.isLeader() || !role.hasLeaderInfo()) {
                return;
            }
            String silent = null;
            String reached = null;
            for (ServerRpcProto follower : role.getLeaderInfo().getFollowerInfoList()) {
                String id = follower.getId().getId().toStringUtf8();
                RaftPeer peer = group.getPeer(RaftPeerId.valueOf(id));
                if (follower.getLastRpcElapsedTimeMs() > APPENDER_SILENCE.toMillis()) {
                    silent = id;
                } else if (peer != null && peer.getStartupRole() != RaftPeerRole.LISTENER) {
                    reached = id;
                }
            }
            if (silent != null && reached != null) {
                lastHandOffNanos = System.nanoTime();
                LOG.warn("this leader has sent nothing to node {} for over {} s (its Raft appender stopped); handing leadership to"
                    + " node {} so that a new leader's appenders reach it", silent, APPENDER_SILENCE.toSeconds(), reached);
                client.admin().transferLeadership(RaftPeerId.valueOf(reached), 10_000);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("handing leadership over failed: {}", e.toString());
        }
    }

    /** NOT_LEADER for a request that runs on the leader only, naming the leader when this node knows it. */
    ReelException notLeader(String request) {
        NodeStatus status = status();
        String where = status.leader().isEmpty()
            ? "no leader is known yet (an election is under way); try again in a few seconds"
            : "node " + leaderId() + " at " + status.leader() + " leads now: connect there (ReelClient with a server list moves there by itself)";
        return new ReelException(ErrorCode.NOT_LEADER, request + " run on the cluster's leader, and node " + settings.nodeId()
            + " is " + status.role() + "; " + where);
    }

    private final class GroupReplicator implements io.reel.store.groups.ConsumerGroups.Replicator {
        @Override
        public Mono<Void> submit(io.reel.proto.GroupChange change) {
            return ClusterNode.this.submit(ClusterWrite.newBuilder().setGroup(change).build()).then();
        }

        @Override
        public ReelException notLeader(String request) {
            return ClusterNode.this.notLeader(request);
        }
    }

    // ------------------------------------------------------------------------------------------ writes

    @Override
    public Mono<AppendResult> append(String stream, ExpectedRevision expected, List<EventData> events) {
        return submit(Writes.append(stream, expected, events));
    }

    @Override
    public Mono<AppendResult> setStreamMetadata(String stream, StreamMetadata metadata) {
        return submit(Writes.setMetadata(stream, metadata));
    }

    @Override
    public Mono<AppendResult> deleteStream(String stream, ExpectedRevision expected, boolean hard) {
        return submit(Writes.delete(stream, expected, hard));
    }

    private Mono<AppendResult> submit(ClusterWrite write) {
        if (settings.isListener()) {
            // a listener has no vote; its client still reaches the leader, so it forwards like any node
            LOG.trace("listener {} forwards a write", settings.nodeId());
        }
        if (write.getSerializedSize() > MAX_WRITE_BYTES) {
            return Mono.error(new ReelException(ErrorCode.TOO_LARGE, "this write is " + write.getSerializedSize() + " bytes; a cluster"
                + " node replicates writes of at most " + MAX_WRITE_BYTES + " bytes: split it into smaller appends"));
        }
        Duration timeout = settings.requestTimeout();
        return gatherer.submit(write).timeout(timeout, Mono.error(() -> new ReelException(ErrorCode.UNAVAILABLE,
            "the cluster did not commit the write within " + timeout.toMillis() + " ms: no leader or no quorum for now. It may"
                + " or may not have been written; retrying it with the same event ids is safe")));
    }

    // ------------------------------------------------------------------------------------------ seeing it

    private DivisionInfo division() {
        try {
            return server.getDivision(GROUP).getInfo();
        } catch (IOException e) {
            throw new ReelException(ErrorCode.UNAVAILABLE, "the Raft server is not running: " + e.getMessage(), e);
        }
    }

    @Override
    public NodeStatus status() {
        DivisionInfo info = division();
        RaftPeerId leader = info.getLeaderId();
        String leaderAddress = "";
        if (leader != null) {
            ClusterMember m = stateMachine.members().get(leader.toString());
            leaderAddress = m == null ? "" : m.getRsocket();
        }
        return new NodeStatus(settings.nodeId(), info.getCurrentRole().name(), leaderAddress, info.getCurrentTerm());
    }

    /** This node's role: LEADER, FOLLOWER, CANDIDATE or LISTENER. */
    public String role() {
        return division().getCurrentRole().name();
    }

    /** The current leader's id, or "" while there is none. */
    public String leaderId() {
        RaftPeerId leader = division().getLeaderId();
        return leader == null ? "" : leader.toString();
    }

    public long term() {
        return division().getCurrentTerm();
    }

    /** One past the last position the applied entries wrote on this node. */
    public long appliedHead() {
        return stateMachine.appliedHead();
    }

    /** The index of the last entry this node applied. */
    public long appliedIndex() {
        return division().getLastAppliedIndex();
    }

    /** Writes waiting to be gathered into an entry. */
    public int queuedWrites() {
        return gatherer == null ? 0 : gatherer.queued();
    }

    @Override
    public ClusterInfo clusterInfo() {
        DivisionInfo info = division();
        RaftPeerId leader = info.getLeaderId();
        String leaderId = leader == null ? "" : leader.toString();
        Map<String, Long> contact = new HashMap<>();
        Map<String, Long> match = new HashMap<>();
        RoleInfoProto role = info.getRoleInfoProto();
        long lastIndex = -1;
        if (role.hasLeaderInfo()) {
            // Ratis lists the follower infos and the match indices of the same log appenders in the same order
            long[] matchIndices = info.getFollowerMatchIndices();
            List<ServerRpcProto> followers = role.getLeaderInfo().getFollowerInfoList();
            for (int i = 0; i < followers.size(); i++) {
                String id = followers.get(i).getId().getId().toStringUtf8();
                contact.put(id, followers.get(i).getLastRpcElapsedTimeMs());
                if (i < matchIndices.length && matchIndices.length == followers.size()) {
                    match.put(id, matchIndices[i]);
                }
            }
            lastIndex = lastIndex();
        } else if (role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()) {
            contact.put(leaderId, role.getFollowerInfo().getLeaderInfo().getLastRpcElapsedTimeMs());
        }
        ClusterInfo.Builder out = ClusterInfo.newBuilder().setLeaderId(leaderId).setTerm(info.getCurrentTerm()).setNodeId(settings.nodeId())
            .setCommitIndex(Math.max(0, commitIndex()));
        for (RaftPeer peer : group.getPeers()) {
            String id = peer.getId().toString();
            ClusterMember announced = stateMachine.members().get(id);
            ClusterMember.Builder m = announced == null ? ClusterMember.newBuilder().setId(id) : announced.toBuilder();
            m.setRaft(peer.getAddress());
            if (id.equals(settings.nodeId())) {
                m.setRole(info.getCurrentRole().name()).setHead(store.headPosition()).setRsocket(self.getRsocket()).setHttp(self.getHttp())
                    .setLastContactMillis(0).setAppliedIndex(info.getLastAppliedIndex()).setMatchIndex(-1)
                    .setLagEntries(lastIndex >= 0 ? Math.max(0, lastIndex - info.getLastAppliedIndex()) : -1);
            } else {
                Long matched = match.get(id);
                m.setRole(id.equals(leaderId) ? "LEADER" : peer.getStartupRole() == RaftPeerRole.LISTENER ? "LISTENER" : "FOLLOWER")
                    .setHead(0).setLastContactMillis(contact.getOrDefault(id, -1L)).setAppliedIndex(-1)
                    .setMatchIndex(matched == null ? -1 : matched)
                    .setLagEntries(matched == null ? -1 : Math.max(0, lastIndex - matched));
            }
            out.addMembers(m);
        }
        return out.build();
    }

    /** Stops the client and the Raft server (not the store, which its opener closes after this). */
    @Override
    public void close() {
        if (groupWatch != null) {
            groupWatch.shutdownNow();
        }
        RaftClient c;
        RaftServer s;
        synchronized (this) {
            c = client;
            s = server;
            server = null;
        }
        try {
            if (c != null) {
                c.close();
            }
        } catch (IOException e) {
            LOG.warn("closing the Raft client: {}", e.toString());
        }
        try {
            if (s != null) {
                s.close();
            }
        } catch (IOException e) {
            LOG.warn("closing the Raft server: {}", e.toString());
        }
    }
}
