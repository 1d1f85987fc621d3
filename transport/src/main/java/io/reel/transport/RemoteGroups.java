package io.reel.transport;

import com.google.protobuf.Empty;
import io.reel.proto.GroupJoin;
import io.reel.proto.GroupList;
import io.reel.proto.GroupRef;
import io.reel.proto.ReplayParkedResult;
import io.reel.store.ErrorCode;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.groups.GroupCodec;
import io.reel.store.groups.GroupOptions;
import io.reel.store.groups.GroupStatus;
import io.reel.transport.internal.AckBatcher;
import io.reel.transport.internal.MessageCodec;
import io.reel.transport.internal.Route;
import io.rsocket.Payload;
import java.util.List;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The persistent subscription groups of a remote store, over the {@code group.*} routes: the remote side of
 * {@code store.groups()}, with the same names and the same semantics (see {@code io.reel.store.groups.ConsumerGroups}).
 *
 * <pre>{@code
 * client.groups().create(GroupOptions.named("billing").filter(EventFilter.builder().streamPrefix("order-").build())).block();
 * client.groups().join("billing", 16).subscribe(delivery -> {
 *     bill(delivery.event());
 *     delivery.ack();
 * });
 * }</pre>
 *
 * <p>Roles, when the server has tokens: {@code create}, {@code update} and {@code delete} need admin,
 * {@code join} and {@code replayParked} write, {@code list} and {@code parked} read. Calls are retried over a
 * new connection as {@link ReelClient}'s are; a {@code create} whose answer was lost with its connection may
 * therefore fail with {@code INVALID_ARGUMENT} ("already exists") although it took effect.
 */
public final class RemoteGroups {
    private final ReelClient client;

    RemoteGroups(ReelClient client) {
        this.client = client;
    }

    /** Creates a group; {@code INVALID_ARGUMENT} when one of that name exists. */
    public Mono<Void> create(GroupOptions options) {
        Objects.requireNonNull(options, "options");
        return client.call(Route.GROUP_CREATE, GroupCodec.toProto(options), Empty.getDefaultInstance()).then();
    }

    /**
     * Changes a group's filter and limits (all of them: pass the full options); its checkpoint, parked events
     * and consumers stay, and its start position is not looked at. {@code NOT_FOUND} for an unknown group.
     */
    public Mono<Void> update(GroupOptions options) {
        Objects.requireNonNull(options, "options");
        return client.call(Route.GROUP_UPDATE, GroupCodec.toProto(options), Empty.getDefaultInstance()).then();
    }

    /** Deletes a group: its consumers end with {@code NOT_FOUND}, its state is removed. */
    public Mono<Void> delete(String name) {
        return Mono.defer(() -> client.call(Route.GROUP_DELETE, ref(name), Empty.getDefaultInstance())).then();
    }

    /** Every group with its checkpoint, lag, in-flight and parked counts and consumers, by name. */
    public Mono<List<GroupStatus>> list() {
        return client.call(Route.GROUP_LIST, Empty.getDefaultInstance(), GroupList.getDefaultInstance())
            .map(l -> l.getGroupsList().stream().map(GroupCodec::fromProto).toList());
    }

    /** The parked events of a group, oldest first. Not resumed across a lost connection: call it again. */
    public Flux<RecordedEvent> parked(String name) {
        return Flux.defer(() -> client.stream(Route.GROUP_PARKED, ref(name)))
            .map(p -> ReelClient.decode(p, data -> MessageCodec.records(client.settings().format(), data, false)))
            .concatMapIterable(records -> records)
            .onErrorMap(client::toReel);
    }

    /** Puts every parked event of a group back into it; completes with how many. */
    public Mono<Long> replayParked(String name) {
        return Mono.defer(() -> client.call(Route.GROUP_REPLAY_PARKED, ref(name), ReplayParkedResult.getDefaultInstance()))
            .onErrorResume(RemoteGroups::notLeader, e -> client.moveToLeader().then(Mono.error(e)))
            .retryWhen(client.retry())
            .map(ReplayParkedResult::getReplayed);
    }

    /** Joins with the group's in-flight limit and a consumer name the server makes up. */
    public Flux<RemoteDelivery> join(String group) {
        return join(group, 0, null);
    }

    /** Joins holding at most {@code maxInFlight} deliveries unanswered (0: the group's limit, never above it). */
    public Flux<RemoteDelivery> join(String group, int maxInFlight) {
        return join(group, maxInFlight, null);
    }

    /**
     * Joins a group as one consumer, over one {@code group.join} request-channel: deliveries arrive while the
     * subscriber requests them and holds fewer than {@code maxInFlight} unanswered; answers
     * ({@link RemoteDelivery#ack()}, {@link RemoteDelivery#nack}) go up the same channel, batched.
     *
     * <p>Cancelling leaves the group (answers given before are sent first); the deliveries still unanswered go
     * to the other consumers. A lost connection or a restarting server leaves the group too, and the
     * {@code Flux} rejoins by itself over a new connection (backoff as {@link ClientSettings}): the deliveries
     * that were unanswered at that moment are delivered again, here or to another consumer — at-least-once, so
     * make handling idempotent (the event's position is unique). On a cluster, groups run on the leader: joined on
     * another node, or when the leader changes, the client moves its connection to the leader and rejoins there
     * (see {@code NOT_LEADER}). Ends with {@code NOT_FOUND} when the group does
     * not exist or is deleted, {@code UNAUTHORIZED} when the token does not grant write.
     *
     * <p>Deliveries are signalled on a Netty thread: do not block in them, hand the work elsewhere.
     *
     * @param consumerName shown in the group's status; null or empty for one the server makes up
     */
    public Flux<RemoteDelivery> join(String group, int maxInFlight, String consumerName) {
        if (group == null || group.isEmpty()) {
            return Flux.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "join needs the group's name"));
        }
        if (maxInFlight < 0) {
            return Flux.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "maxInFlight " + maxInFlight
                + " is negative; give 0 for the group's limit"));
        }
        GroupJoin.Builder join = GroupJoin.newBuilder().setGroup(group).setMaxInFlight(maxInFlight);
        if (consumerName != null) {
            join.setConsumer(consumerName);
        }
        GroupJoin request = join.build();
        WireFormat format = client.settings().format();
        return Flux.defer(() -> {
                AckBatcher answers = new AckBatcher(format);
                Flux<Payload> up = Flux.defer(() -> Flux.just(client.payload(Route.GROUP_JOIN, request))).concatWith(answers.payloads());
                return client.channel(up)
                    .map(p -> {
                        MessageCodec.ReceivedDelivery d = ReelClient.decode(p, data -> MessageCodec.delivery(format, data));
                        return new RemoteDelivery(d.record(), d.retryCount(), answers);
                    })
                    .doOnCancel(answers::flush)
                    .doFinally(signal -> answers.close());
            })
            .onErrorResume(RemoteGroups::notLeader, e -> client.moveToLeader().then(Mono.error(e)))
            .retryWhen(client.retry())
            .onErrorMap(client::toReel);
    }

    /** A cluster node that does not lead: the client moves to the leader and tries again. */
    private static boolean notLeader(Throwable e) {
        ReelException fromServer = e instanceof ReelException re ? re : io.reel.transport.internal.WireErrors.fromServer(e);
        return fromServer != null && fromServer.code() == ErrorCode.NOT_LEADER;
    }

    private static GroupRef ref(String name) {
        if (name == null || name.isEmpty()) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "the group's name is empty; list() shows the groups");
        }
        return GroupRef.newBuilder().setName(name).build();
    }
}
