package io.reel.ops;

import io.reel.transport.cluster.ClusterSettings;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The flags that make {@code reel server} a cluster node; without {@code --peers} it is standalone. */
final class ClusterOptions {
    @Option(names = "--node-id", paramLabel = "ID", description = "This node's id in --peers or --listeners (cluster only).")
    String nodeId;

    @Option(names = "--peers", paramLabel = "ID=HOST:PORT,...",
        description = "The voters of the cluster with their Raft addresses; the same list on every node. Without it the server is standalone.")
    String peers;

    @Option(names = "--listeners", paramLabel = "ID=HOST:PORT,...",
        description = "Non-voting read replicas with their Raft addresses; the same list on every node.")
    String listeners;

    @Option(names = "--election-timeout", paramLabel = "MS",
        description = "Shortest Raft election timeout in ms; the longest is twice it (default: 1000; shorter values flap on a loaded 2-core machine).")
    Long electionTimeoutMillis;

    @Option(names = "--snapshot-every", paramLabel = "ENTRIES",
        description = "Raft entries between snapshots (default: 20000). After one the Raft log is purged up to it; a node further"
            + " behind, or one started on an empty data directory, installs the leader's snapshot and replays the rest.")
    Long snapshotEvery;

    /** The cluster settings, or null for a standalone server. */
    ClusterSettings settings() {
        if (peers == null) {
            if (nodeId != null || listeners != null || electionTimeoutMillis != null || snapshotEvery != null) {
                throw new io.reel.store.ReelException(io.reel.store.ErrorCode.INVALID_ARGUMENT,
                    "--node-id, --listeners, --election-timeout and --snapshot-every need --peers; give the voters' Raft addresses, or drop them for a standalone server");
            }
            return null;
        }
        return ClusterSettings.of(nodeId, peers, listeners, electionTimeoutMillis == null ? null : Duration.ofMillis(electionTimeoutMillis),
            snapshotEvery);
    }
}
