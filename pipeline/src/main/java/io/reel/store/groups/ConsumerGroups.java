package io.reel.store.groups;

import io.reel.proto.GroupChange;
import io.reel.proto.GroupProgress;
import io.reel.store.CheckpointStore;
import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Persistent subscription groups of a store (competing consumers, as EventStoreDB's persistent subscriptions
 * and Kafka's consumer groups): several consumers share one named group; each event is handed to one of
 * them and counts as done once acknowledged; a nack or a timeout retries it, and after
 * {@link GroupOptions#maxRetries()} retries it is parked. Events of one stream go to one consumer at a
 * time, so per-stream order holds. A group's checkpoint, settings and parked events survive restarts
 * (they live in {@code <data>/groups/}).
 *
 * <pre>{@code
 * store.groups().create(GroupOptions.named("billing").filter(EventFilter.builder().streamPrefix("order-").build())).block();
 * store.groups().join("billing").subscribe(delivery -> {
 *     bill(delivery.event());
 *     delivery.ack();
 * });
 * }</pre>
 *
 * <p><b>In a cluster</b> ({@link io.reel.store.StoreSettings#replicatedGroups()}) a group's state is the
 * replicated state: {@code create}, {@code update}, {@code delete} and the leader's progress (checkpoint and
 * parked positions) go through the cluster's {@link Replicator} as entries of their own, and every node applies
 * them to its group files in log order ({@link #apply}). Groups are dispatched on the leader only
 * ({@link #lead}, {@link #follow}); elsewhere {@code join} and {@code replayParked} fail with
 * {@code NOT_LEADER}, and {@code list} and {@code parked} answer from the replicated files. A new leader resumes
 * every group from its last committed progress: at-least-once, nothing skipped.
 */
public final class ConsumerGroups {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroups.class);
    private static final String APPLIED = "applied";

    /**
     * The cluster's side of replicated groups (implemented by the cluster node; see the class comment).
     */
    public interface Replicator {
        /** Submits a change through the cluster; completes once it is committed and applied, or fails with its outcome. */
        Mono<Void> submit(GroupChange change);

        /** The error for a request that runs on the leader only, naming the leader's address when it is known. */
        ReelException notLeader(String request);
    }

    private final EventStore store;
    private final CheckpointStore states;
    private final boolean replicated;
    private final ConcurrentHashMap<String, GroupDispatcher> groups = new ConcurrentHashMap<>();
    private volatile Replicator replicator;
    /** Cluster only: the sequence of the last group change applied here, forced with it ({@code groups/.applied/}). */
    private final CheckpointStore appliedMarker;
    private long appliedSequence;
    /** Whether this node dispatches its groups: always standalone, on the leader in a cluster. Changed under {@code groups}. */
    private volatile boolean leading;

    public ConsumerGroups(EventStore store, CheckpointStore states) {
        this.store = store;
        this.states = states;
        this.replicated = store.settings().replicatedGroups();
        this.appliedMarker = replicated ? CheckpointStore.open(states.directory().resolve(".applied")) : null;
        this.appliedSequence = replicated ? appliedMarker.load(APPLIED).map(CheckpointStore.Checkpoint::position).orElse(-1L) : -1;
        if (!replicated) {
            leading = true;
            for (String name : states.names()) {
                GroupDispatcher.load(states, name).ifPresent(stored ->
                    groups.put(name, new GroupDispatcher(store, states, null, stored.options(), stored.checkpoint(), stored.parked(),
                        stored.incarnation())));
            }
        }
    }

    /** Creates a group; fails with {@code INVALID_ARGUMENT} when one of that name exists. */
    public Mono<Void> create(GroupOptions options) {
        if (replicated) {
            return Mono.defer(() -> replicator().submit(GroupChange.newBuilder().setCreate(GroupCodec.toProto(options)).build()));
        }
        return Mono.fromRunnable(() -> {
            long start = options.fromEndOfLog() ? store.headPosition() : options.fromPosition();
            synchronized (groups) {
                if (groups.containsKey(options.name())) {
                    throw exists(options.name());
                }
                GroupDispatcher.save(states, options, start, List.of(), 0);
                groups.put(options.name(), new GroupDispatcher(store, states, null, options, start, List.of(), 0));
            }
            LOG.info("created group {}", options);
        });
    }

    /** Changes a group's filter or limits; its checkpoint, parked events and consumers stay. */
    public Mono<Void> update(GroupOptions options) {
        if (replicated) {
            return Mono.defer(() -> replicator().submit(GroupChange.newBuilder().setUpdate(GroupCodec.toProto(options)).build()));
        }
        return Mono.fromRunnable(() -> require(options.name()).update(options));
    }

    /** Deletes a group: its consumers end with {@code NOT_FOUND}, its state is removed. */
    public Mono<Void> delete(String name) {
        if (replicated) {
            return Mono.defer(() -> replicator().submit(GroupChange.newBuilder().setDelete(name == null ? "" : name).build()));
        }
        return Mono.fromRunnable(() -> {
            GroupDispatcher group;
            synchronized (groups) {
                group = groups.remove(require(name).name());
            }
            group.close(deleted(name), false);
            states.delete(name);
        });
    }

    /** Joins a group with the group's in-flight limit. */
    public Flux<Delivery> join(String name) {
        return join(name, 0, null);
    }

    /**
     * Joins a group: deliveries arrive while the subscriber requests them and holds fewer than
     * {@code maxInFlight} (0 = the group's limit, never above it) unacknowledged. Cancelling leaves the
     * group: the deliveries it held go to the other consumers. On a cluster node that is not the leader,
     * fails with {@code NOT_LEADER}; when the node stops leading, its consumers end with {@code NOT_LEADER}.
     */
    public Flux<Delivery> join(String name, int maxInFlight, String consumerName) {
        return Flux.defer(() -> {
            requireLeading("joining group '" + name + "'");
            return require(name).join(maxInFlight, consumerName);
        });
    }

    /**
     * How many unacknowledged deliveries a consumer joining {@code name} with {@code maxInFlight} (0: the group's
     * limit) may hold at most; {@code NOT_FOUND} for an unknown group.
     */
    public int inFlightLimit(String name, int maxInFlight) {
        int group = require(name).maxInFlight();
        return maxInFlight <= 0 ? group : Math.min(maxInFlight, group);
    }

    /** The parked events of a group, oldest first. */
    public Flux<RecordedEvent> parked(String name) {
        // subscribed off the caller's thread: on a node that does not lead, the parked list is read from the group's file
        return Mono.defer(() -> leading ? require(name).parkedPositions() : Mono.just(stored(name).parked()))
            .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic())
            .flatMapMany(Flux::fromIterable)
            .concatMap(p -> store.readAll(p, 1, Direction.FORWARDS, EventFilter.none()).filter(r -> r.position() == p));
    }

    /** Puts every parked event of a group back into it; completes with how many. */
    public Mono<Long> replayParked(String name) {
        return Mono.defer(() -> {
            requireLeading("replaying the parked events of group '" + name + "'");
            return require(name).replayParked();
        });
    }

    /** Every group by name; on a cluster node that is not the leader, as the replicated state has it (no consumers). */
    public List<GroupStatus> list() {
        List<GroupStatus> list = new ArrayList<>();
        if (leading) {
            for (GroupDispatcher g : groups.values()) {
                list.add(g.status());
            }
        } else {
            long head = store.headPosition();
            for (String name : states.names()) {
                GroupDispatcher.load(states, name).ifPresent(s -> list.add(new GroupStatus(name, s.options().filter().toString(),
                    s.checkpoint(), Math.max(0, head - s.checkpoint()), 0, 0, s.parked().size(), List.of())));
            }
        }
        list.sort(java.util.Comparator.comparing(GroupStatus::name));
        return list;
    }

    // ------------------------------------------------------------------------------------------ cluster

    /** Makes {@code replicator} carry this store's group changes; a cluster node calls it once, before serving. */
    public void replicateThrough(Replicator replicator) {
        if (!replicated) {
            throw new IllegalStateException("open the store with StoreSettings.replicatedGroups(true) to replicate its groups");
        }
        this.replicator = replicator;
    }

    /**
     * This node leads the cluster and has applied every entry committed before its term: starts dispatching every
     * group from its replicated state. Idempotent.
     */
    public void lead() {
        synchronized (groups) {
            if (leading) {
                return;
            }
            for (String name : states.names()) {
                GroupDispatcher.load(states, name).ifPresent(stored -> groups.put(name, new GroupDispatcher(store, states,
                    this::progress, stored.options(), stored.checkpoint(), stored.parked(), stored.incarnation())));
            }
            leading = true;
            LOG.info("leading: dispatching {} consumer groups from their replicated state", groups.size());
        }
    }

    /** This node no longer leads: stops dispatching; the consumers end with {@code why} (NOT_LEADER) and go to the leader. */
    public void follow(ReelException why) {
        synchronized (groups) {
            if (!leading) {
                return;
            }
            leading = false;
            for (GroupDispatcher g : groups.values()) {
                g.close(why, false);
            }
            groups.clear();
            LOG.info("no longer leading: consumer groups stopped");
        }
    }

    /**
     * Applies a committed change to this node's group files, on every node in the order of the cluster's log (and,
     * on the leader, to the running groups). Deterministic: the outcome and the files depend only on the changes
     * applied before and on {@code head}, the position where the entry applies (a group created at the end of the
     * log starts there). A rejected change throws {@code INVALID_ARGUMENT} or {@code NOT_FOUND} and changes nothing.
     *
     * <p>{@code sequence} orders the changes (the cluster's log position of the change): one at or below the last
     * applied here was applied before a restart, and is skipped with {@code UNAVAILABLE}, never decided again on a
     * later state. The last sequence is forced after each change; a crash between the two re-applies only the last
     * change onto its own result, which changes nothing.
     */
    public void apply(GroupChange change, long head, long sequence) {
        requireReplicated();
        synchronized (groups) {
            if (sequence <= appliedSequence) {
                throw new ReelException(ErrorCode.UNAVAILABLE, "this group change was applied before the node restarted; send it"
                    + " again to learn its outcome");
            }
            try {
                applyChange(change, head, sequence);
            } catch (ReelException rejected) {
                if (rejected.code() == ErrorCode.INVALID_ARGUMENT || rejected.code() == ErrorCode.NOT_FOUND) {
                    applied(sequence);
                }
                throw rejected;
            }
            applied(sequence);
        }
    }

    /**
     * Cluster only: writes the replicated group files and the sequence of the last change applied here into
     * {@code target}, for a snapshot of this node's state machine (called between two applied entries).
     */
    public void copyReplicatedState(java.nio.file.Path target) {
        requireReplicated();
        synchronized (groups) {
            CheckpointStore to = CheckpointStore.open(target);
            for (String name : states.names()) {
                states.load(name).ifPresent(c -> to.save(c.name(), c.position(), c.state()));
            }
            CheckpointStore.open(target.resolve(".applied")).save(APPLIED, appliedSequence, null);
        }
    }

    /**
     * Cluster only: replaces this node's group files with those {@link #copyReplicatedState} wrote into
     * {@code source}, when they hold later changes than this node applied (a node that installed the leader's
     * snapshot no longer has the entries that made them); returns whether it did. The node is not leading then, so
     * no group is running. The sequence is written last: a crash in between restores again at the next start.
     */
    public boolean restoreReplicatedState(java.nio.file.Path source) {
        requireReplicated();
        synchronized (groups) {
            long sequence = CheckpointStore.open(source.resolve(".applied")).load(APPLIED).map(CheckpointStore.Checkpoint::position).orElse(-1L);
            if (sequence <= appliedSequence) {
                return false;
            }
            CheckpointStore from = CheckpointStore.open(source);
            for (String name : states.names()) {
                states.delete(name);
            }
            for (String name : from.names()) {
                from.load(name).ifPresent(c -> states.save(c.name(), c.position(), c.state()));
            }
            applied(sequence);
            return true;
        }
    }

    private void requireReplicated() {
        if (!replicated) {
            throw new IllegalStateException("a standalone store's groups are not replicated: open it with StoreSettings.replicatedGroups(true)");
        }
    }

    private void applied(long sequence) {
        appliedSequence = sequence;
        appliedMarker.save(APPLIED, sequence, null);
    }

    private void applyChange(GroupChange change, long head, long sequence) {
        {
            switch (change.getChangeCase()) {
                case CREATE -> {
                    GroupOptions options = GroupCodec.fromStored(change.getCreate());
                    if (states.exists(options.name())) {
                        throw exists(options.name());
                    }
                    long start = options.fromEndOfLog() ? head : options.fromPosition();
                    GroupDispatcher.save(states, options, start, List.of(), sequence);
                    if (leading) {
                        groups.put(options.name(), new GroupDispatcher(store, states, this::progress, options, start, List.of(), sequence));
                    }
                    LOG.info("created group {}", options);
                }
                case UPDATE -> {
                    GroupOptions options = GroupCodec.fromStored(change.getUpdate());
                    GroupDispatcher.Stored stored = stored(options.name());
                    GroupDispatcher.save(states, options, stored.checkpoint(), stored.parked(), stored.incarnation());
                    GroupDispatcher running = leading ? groups.get(options.name()) : null;
                    if (running != null) {
                        running.update(options);
                    }
                }
                case DELETE -> {
                    String name = change.getDelete();
                    if (!states.exists(name)) {
                        throw notFound(name);
                    }
                    states.delete(name);
                    GroupDispatcher running = groups.remove(name);
                    if (running != null) {
                        running.close(deleted(name), false);
                    }
                }
                case PROGRESS -> {
                    GroupProgress p = change.getProgress();
                    // progress of a group deleted since (and maybe made again: another incarnation) is dropped
                    GroupDispatcher.load(states, p.getName()).filter(s -> s.incarnation() == p.getIncarnation())
                        .ifPresent(s -> GroupDispatcher.save(states, s.options(), p.getCheckpoint(), p.getParkedList(), s.incarnation()));
                }
                case CHANGE_NOT_SET -> throw ReelException.invalidArgument("an empty group change in a cluster entry");
            }
        }
    }

    /** A running group's progress, sent through the cluster (its dispatcher keeps one save on its way at a time). */
    private Mono<Void> progress(GroupProgress progress) {
        return replicator().submit(GroupChange.newBuilder().setProgress(progress).build());
    }

    private Replicator replicator() {
        Replicator r = replicator;
        if (r == null) {
            throw new ReelException(ErrorCode.UNAVAILABLE, "this node's cluster is not started yet; try again in a moment");
        }
        return r;
    }

    private void requireLeading(String request) {
        if (!leading) {
            throw replicator().notLeader(request);
        }
    }

    private GroupDispatcher.Stored stored(String name) {
        return (name == null ? java.util.Optional.<GroupDispatcher.Stored>empty() : GroupDispatcher.load(states, name))
            .orElseThrow(() -> notFound(name));
    }

    private GroupDispatcher require(String name) {
        GroupDispatcher group = name == null ? null : groups.get(name);
        if (group == null) {
            throw notFound(name);
        }
        return group;
    }

    private static ReelException notFound(String name) {
        return new ReelException(ErrorCode.NOT_FOUND, "there is no group named '" + name + "'; create it first");
    }

    private static ReelException exists(String name) {
        return ReelException.invalidArgument("group '" + name + "' already exists; update it or delete it first");
    }

    private static ReelException deleted(String name) {
        return new ReelException(ErrorCode.NOT_FOUND, "group '" + name + "' was deleted");
    }

    public void close() {
        synchronized (groups) {
            for (GroupDispatcher g : groups.values()) {
                g.close(new ReelException(ErrorCode.CLOSED, "the store was closed"), true);
            }
            groups.clear();
        }
    }
}
