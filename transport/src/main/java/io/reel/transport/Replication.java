package io.reel.transport;

import io.reel.proto.ClusterInfo;
import io.reel.store.AppendResult;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.StreamMetadata;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Where a cluster node's writes go: through the cluster (which replicates and then applies them to this
 * node's store) instead of straight to the store. Reads never pass here: every node serves them from its
 * own store. A standalone server has none ({@link ServerSettings.Builder#replication}).
 */
public interface Replication {
    /** As {@code EventStore.append}, replicated; fails with {@code UNAVAILABLE} without a leader or a quorum. */
    Mono<AppendResult> append(String stream, ExpectedRevision expected, List<EventData> events);

    Mono<AppendResult> setStreamMetadata(String stream, StreamMetadata metadata);

    Mono<AppendResult> deleteStream(String stream, ExpectedRevision expected, boolean hard);

    /** This node as {@code info} reports it. */
    NodeStatus status();

    /** The members as {@code cluster.info} reports them. */
    ClusterInfo clusterInfo();

    /**
     * @param role   {@code LEADER}, {@code FOLLOWER}, {@code CANDIDATE} or {@code LISTENER}
     * @param leader the leader's RSocket TCP address, "" when there is none or it is not known yet
     */
    record NodeStatus(String nodeId, String role, String leader, long term) {
    }
}
