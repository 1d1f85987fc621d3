package io.reel.transport.internal;

import io.reel.proto.ClusterInfo;
import io.reel.proto.ClusterMember;
import io.reel.store.ErrorCode;
import io.reel.store.EventStore;
import io.reel.store.ReelException;
import io.reel.transport.Replication;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** What the routes answer about a node's place in a cluster, and {@code min_head} (read-your-writes). */
final class ClusterViews {
    private static final Duration HEAD_POLL = Duration.ofMillis(2);

    private ClusterViews() {
    }

    static io.reel.proto.StoreInfo withStatus(io.reel.proto.StoreInfo info, Replication.NodeStatus status) {
        return info.toBuilder().setNodeId(status.nodeId()).setRole(status.role()).setLeader(status.leader()).setTerm(status.term()).build();
    }

    static ClusterInfo standalone(EventStore store) {
        return ClusterInfo.newBuilder().addMembers(ClusterMember.newBuilder().setRole("STANDALONE").setHead(store.headPosition())).build();
    }

    /**
     * {@code then}, once this node's head has reached {@code minHead} (at once when it has, or when
     * {@code minHead} is 0); {@code UNAVAILABLE} when it does not within {@code wait}.
     */
    static <T> Flux<T> afterHead(EventStore store, long minHead, Duration wait, Flux<T> then) {
        if (minHead == 0) {
            return then;
        }
        if (minHead < 0) {
            return Flux.error(WireErrors.invalid("min_head " + Long.toUnsignedString(minHead) + " is too large"));
        }
        return Flux.defer(() -> {
            if (store.headPosition() >= minHead) {
                return then;
            }
            return Flux.interval(HEAD_POLL).filter(tick -> store.headPosition() >= minHead).next()
                .timeout(wait, Mono.error(() -> new ReelException(ErrorCode.UNAVAILABLE, "this node's head is "
                    + store.headPosition() + " and did not reach min_head " + minHead + " within " + wait.toMillis()
                    + " ms; it is behind the cluster, retry on another node or later")))
                // flatMapMany, not thenMany: reactor-core's concat can lose a request that races its switch to the next
                // source (IndexerStage#whenIndexed tells how), and the server's batching requests from its own worker
                .flatMapMany(reached -> then);
        });
    }
}
