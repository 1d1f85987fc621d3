package io.reel.transport.cluster;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How a node joins a cluster: its id, the voters ({@code --peers}) and the non-voting read replicas
 * ({@code --listeners}) with their Raft addresses, and the election timeout. Every node is given the same
 * peers and listeners. Immutable; checked once by {@link #of}.
 *
 * @param nodeId          this node's id; one of the peers or listeners
 * @param peers           voter id → Raft {@code HOST:PORT}, in the order given
 * @param listeners       listener id → Raft {@code HOST:PORT}
 * @param electionTimeout the shortest election timeout; the longest is twice it (1–2 s by default: shorter
 *                        timeouts flap on a loaded 2-core machine)
 * @param requestTimeout  how long a write may wait for its entry to commit before it fails with {@code UNAVAILABLE}
 * @param snapshotEvery   Raft entries between snapshots; each snapshot lets Raft purge its log up to it, and is
 *                        what a node further behind than the purged log installs ({@code --snapshot-every})
 */
public record ClusterSettings(String nodeId, Map<String, String> peers, Map<String, String> listeners, Duration electionTimeout,
                              Duration requestTimeout, long snapshotEvery) {
    public static final long DEFAULT_SNAPSHOT_EVERY = 20_000;
    public static final Duration DEFAULT_ELECTION_TIMEOUT = Duration.ofMillis(1000);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);

    public ClusterSettings {
        Objects.requireNonNull(nodeId, "nodeId");
        peers = Collections.unmodifiableMap(new LinkedHashMap<>(peers));
        listeners = Collections.unmodifiableMap(new LinkedHashMap<>(listeners));
        Objects.requireNonNull(electionTimeout, "electionTimeout");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
    }

    /**
     * Parses and checks the command line's view of a cluster.
     *
     * @param peers     {@code ID=HOST:PORT,…} (required)
     * @param listeners {@code ID=HOST:PORT,…} or null
     */
    public static ClusterSettings of(String nodeId, String peers, String listeners, Duration electionTimeout) {
        return of(nodeId, peers, listeners, electionTimeout, null);
    }

    /**
     * As {@link #of(String, String, String, Duration)}, with {@code --snapshot-every}.
     *
     * @param snapshotEvery Raft entries between snapshots, or null for {@value #DEFAULT_SNAPSHOT_EVERY}
     */
    public static ClusterSettings of(String nodeId, String peers, String listeners, Duration electionTimeout, Long snapshotEvery) {
        if (nodeId == null || nodeId.isBlank()) {
            throw invalid("a cluster node needs --node-id, one of the ids in --peers or --listeners");
        }
        Map<String, String> voters = parse("--peers", peers);
        Map<String, String> readers = listeners == null || listeners.isBlank() ? Map.of() : parse("--listeners", listeners);
        if (voters.isEmpty()) {
            throw invalid("--peers names no voter; give ID=HOST:PORT,… with the Raft address of every voter");
        }
        for (String id : readers.keySet()) {
            if (voters.containsKey(id)) {
                throw invalid("node id '" + id + "' is in both --peers and --listeners; a node is a voter or a listener, not both");
            }
        }
        if (!voters.containsKey(nodeId) && !readers.containsKey(nodeId)) {
            throw invalid("--node-id '" + nodeId + "' is not in --peers (" + String.join(",", voters.keySet()) + ")"
                + (readers.isEmpty() ? "" : " nor in --listeners (" + String.join(",", readers.keySet()) + ")"));
        }
        Duration timeout = electionTimeout == null ? DEFAULT_ELECTION_TIMEOUT : electionTimeout;
        if (timeout.toMillis() < 100 || timeout.toMillis() > 60_000) {
            throw invalid("--election-timeout " + timeout.toMillis() + " ms is outside 100–60000 ms; 1000 (the default) suits most machines");
        }
        long every = snapshotEvery == null ? DEFAULT_SNAPSHOT_EVERY : snapshotEvery;
        if (every < 10 || every > 100_000_000) {
            throw invalid("--snapshot-every " + every + " is outside 10–100000000 entries; " + DEFAULT_SNAPSHOT_EVERY + " (the default) suits most clusters");
        }
        return new ClusterSettings(nodeId, voters, readers, timeout, DEFAULT_REQUEST_TIMEOUT.plus(timeout.multipliedBy(2)), every);
    }

    /** This node's Raft address. */
    public String raftAddress() {
        String a = peers.get(nodeId);
        return a != null ? a : listeners.get(nodeId);
    }

    public boolean isListener() {
        return listeners.containsKey(nodeId);
    }

    private static Map<String, String> parse(String flag, String list) {
        if (list == null || list.isBlank()) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String item : list.split(",")) {
            String s = item.trim();
            int eq = s.indexOf('=');
            int colon = s.lastIndexOf(':');
            if (eq <= 0 || colon < eq + 2 || colon == s.length() - 1) {
                throw invalid(flag + " item '" + s + "' is not ID=HOST:PORT, e.g. a=127.0.0.1:9701");
            }
            String id = s.substring(0, eq);
            if (!id.matches("[A-Za-z0-9_-]+")) {
                throw invalid(flag + " id '" + id + "' may hold only letters, digits, '-' and '_'");
            }
            int port;
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw invalid(flag + " item '" + s + "' has no port 1-65535 after the last ':'");
            }
            if (out.put(id, s.substring(eq + 1)) != null) {
                throw invalid(flag + " names node '" + id + "' twice");
            }
        }
        return out;
    }

    private static ReelException invalid(String sentence) {
        return new ReelException(ErrorCode.INVALID_ARGUMENT, sentence);
    }
}
