package io.reel.store.groups;

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
 */
public final class ConsumerGroups {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroups.class);

    private final EventStore store;
    private final CheckpointStore states;
    private final ConcurrentHashMap<String, GroupDispatcher> groups = new ConcurrentHashMap<>();

    public ConsumerGroups(EventStore store, CheckpointStore states) {
        this.store = store;
        this.states = states;
        for (String name : states.names()) {
            GroupDispatcher.load(states, name).ifPresent(stored ->
                groups.put(name, new GroupDispatcher(store, states, stored.options(), stored.checkpoint(), stored.parked())));
        }
    }

    /** Creates a group; fails with {@code INVALID_ARGUMENT} when one of that name exists. */
    public Mono<Void> create(GroupOptions options) {
        return Mono.fromRunnable(() -> {
            long start = options.fromEndOfLog() ? store.headPosition() : options.fromPosition();
            synchronized (groups) {
                if (groups.containsKey(options.name())) {
                    throw ReelException.invalidArgument("group '" + options.name() + "' already exists; update it or delete it first");
                }
                GroupDispatcher.save(states, options, start, List.of());
                groups.put(options.name(), new GroupDispatcher(store, states, options, start, List.of()));
            }
            LOG.info("created group {}", options);
        });
    }

    /** Changes a group's filter or limits; its checkpoint, parked events and consumers stay. */
    public Mono<Void> update(GroupOptions options) {
        return Mono.fromRunnable(() -> require(options.name()).update(options));
    }

    /** Deletes a group: its consumers end with {@code NOT_FOUND}, its state is removed. */
    public Mono<Void> delete(String name) {
        return Mono.fromRunnable(() -> {
            GroupDispatcher group;
            synchronized (groups) {
                group = groups.remove(require(name).name());
            }
            group.close(new ReelException(ErrorCode.NOT_FOUND, "group '" + name + "' was deleted"), false);
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
     * group: the deliveries it held go to the other consumers.
     */
    public Flux<Delivery> join(String name, int maxInFlight, String consumerName) {
        return Flux.defer(() -> require(name).join(maxInFlight, consumerName));
    }

    /** The parked events of a group, oldest first. */
    public Flux<RecordedEvent> parked(String name) {
        return Mono.defer(() -> require(name).parkedPositions())
            .flatMapMany(Flux::fromIterable)
            .concatMap(p -> store.readAll(p, 1, Direction.FORWARDS, EventFilter.none()).filter(r -> r.position() == p));
    }

    /** Puts every parked event of a group back into it; completes with how many. */
    public Mono<Long> replayParked(String name) {
        return Mono.defer(() -> require(name).replayParked());
    }

    public List<GroupStatus> list() {
        List<GroupStatus> list = new ArrayList<>();
        for (GroupDispatcher g : groups.values()) {
            list.add(g.status());
        }
        list.sort(java.util.Comparator.comparing(GroupStatus::name));
        return list;
    }

    private GroupDispatcher require(String name) {
        GroupDispatcher group = name == null ? null : groups.get(name);
        if (group == null) {
            throw new ReelException(ErrorCode.NOT_FOUND, "there is no group named '" + name + "'; create it first");
        }
        return group;
    }

    public void close() {
        for (GroupDispatcher g : groups.values()) {
            g.close(new ReelException(ErrorCode.CLOSED, "the store was closed"), true);
        }
        groups.clear();
    }
}
