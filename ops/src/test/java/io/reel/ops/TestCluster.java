package io.reel.ops;

import static org.awaitility.Awaitility.await;

import io.reel.proto.ClusterInfo;
import io.reel.store.Direction;
import io.reel.store.EventFilter;
import io.reel.store.RecordedEvent;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Three (or more) {@code reel server} cluster nodes in child JVMs on loopback, each with its own data
 * directory, and a client per node; nodes can be killed with SIGKILL and started again on the same directory.
 */
final class TestCluster implements AutoCloseable {
    private static final Duration READY = Duration.ofSeconds(150);

    private final Path dir;
    private final Map<String, Integer> raftPorts = new LinkedHashMap<>();
    private final Map<String, ServerProcess> nodes = new LinkedHashMap<>();
    private final Map<String, ReelClient> clients = new LinkedHashMap<>();
    private final String peers;
    private String listeners = "";
    private int electionTimeoutMillis = 1000;
    private final List<String> flags;
    private final java.util.Set<String> frozen = new java.util.HashSet<>();

    TestCluster(Path dir, String... ids) {
        this(dir, List.of(), ids);
    }

    /** With {@code flags} added to every node's command line (e.g. {@code --snapshot-every 50}). */
    TestCluster(Path dir, List<String> flags, String... ids) {
        this.dir = dir;
        this.flags = List.copyOf(flags);
        StringJoiner list = new StringJoiner(",");
        for (String id : ids) {
            int port = freePort();
            raftPorts.put(id, port);
            list.add(id + "=127.0.0.1:" + port);
        }
        this.peers = list.toString();
    }

    /** Adds non-voting members ({@code --listeners}), started with the voters. */
    TestCluster listeners(String... ids) {
        StringJoiner list = new StringJoiner(",");
        for (String id : ids) {
            int port = freePort();
            raftPorts.put(id, port);
            list.add(id + "=127.0.0.1:" + port);
        }
        listeners = list.toString();
        return this;
    }

    /** The nodes' {@code --election-timeout} (default 1000 ms, what failover tests measure against). */
    TestCluster electionTimeout(Duration timeout) {
        electionTimeoutMillis = (int) timeout.toMillis();
        return this;
    }

    /** Starts every node side by side and waits until each printed {@code ready}. */
    TestCluster start() {
        for (String id : raftPorts.keySet()) {
            nodes.put(id, launch(id));
        }
        for (String id : raftPorts.keySet()) {
            ready(id);
        }
        return this;
    }

    private ServerProcess launch(String id) {
        List<String> args = new ArrayList<>(List.of("--node-id", id, "--peers", peers, "--election-timeout", Integer.toString(electionTimeoutMillis)));
        if (!listeners.isEmpty()) {
            args.addAll(List.of("--listeners", listeners));
        }
        args.addAll(flags);
        return ServerProcess.launchIn(dir, data(id), dir.resolve("logs"), args.toArray(String[]::new));
    }

    private void ready(String id) {
        ServerProcess node = nodes.get(id);
        node.awaitReady(READY);
        String[] tcp = node.listeners().get("rsocket-tcp").split(":");
        ClientSettings settings = ClientSettings.builder().host(tcp[0]).port(Integer.parseInt(tcp[1])).requestTimeout(Duration.ofSeconds(30))
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).build();
        clients.put(id, ReelClient.connect(settings).block(Duration.ofSeconds(60)));
    }

    Path data(String id) {
        return dir.resolve("data-" + id);
    }

    List<String> ids() {
        return new ArrayList<>(raftPorts.keySet());
    }

    ServerProcess node(String id) {
        return nodes.get(id);
    }

    ReelClient client(String id) {
        return clients.get(id);
    }

    String rsocket(String id) {
        return nodes.get(id).listeners().get("rsocket-tcp");
    }

    /** The leader's id as node {@code via} sees it; "" when it knows none. */
    String leaderSeenBy(String via) {
        ClusterInfo info = clients.get(via).clusterInfo().block(Duration.ofSeconds(30));
        return info == null ? "" : info.getLeaderId();
    }

    /** Waits until every running node names the same leader, and returns it. */
    String awaitLeader(Duration atMost) {
        String[] leader = {""};
        await().atMost(atMost).pollInterval(Duration.ofMillis(50)).ignoreExceptions().until(() -> {
            String seen = null;
            for (String id : running()) {
                String l = leaderSeenBy(id);
                if (l.isEmpty() || (seen != null && !seen.equals(l)) || !running().contains(l)) {
                    return false;
                }
                seen = l;
            }
            leader[0] = seen;
            return true;
        });
        return leader[0];
    }

    /** The nodes alive and not frozen. */
    List<String> running() {
        List<String> out = new ArrayList<>();
        nodes.forEach((id, node) -> {
            if (node.isAlive() && !frozen.contains(id)) {
                out.add(id);
            }
        });
        return out;
    }

    /** SIGKILL, as {@code kill -9}. */
    void kill(String id) {
        ReelClient c = clients.remove(id);
        if (c != null) {
            c.close();
        }
        nodes.get(id).kill();
    }

    /** SIGSTOP: the process stays, but answers nothing (a long GC pause, a frozen VM). */
    void freeze(String id) {
        frozen.add(id);
        nodes.get(id).signal("STOP");
    }

    /** SIGCONT: a frozen node runs on from where it stood. */
    void thaw(String id) {
        nodes.get(id).signal("CONT");
        frozen.remove(id);
    }

    /** Deletes a killed node's data directory: its disk is gone. */
    void wipe(String id) {
        if (nodes.get(id).isAlive()) {
            throw new IllegalStateException("kill node " + id + " before wiping its data directory");
        }
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(data(id))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a killed node again on its data directory and waits for {@code ready}. */
    void restart(String id) {
        nodes.put(id, launch(id));
        ready(id);
    }

    /** Waits until every running node's head equals {@code head}. */
    void awaitHeads(long head, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            for (String id : running()) {
                Long h = clients.get(id).head().block(Duration.ofSeconds(10));
                if (h == null || h != head) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * The first index the node's Raft log still holds (its oldest segment's start, from the file names Ratis
     * gives them: {@code log_START-END}, {@code log_inprogress_START}), or -1 when it has none.
     */
    long raftLogStart(String id) {
        long first = Long.MAX_VALUE;
        // list names only (no walk into sm/, whose snapshots come and go while the node runs)
        try (java.util.stream.Stream<Path> groups = java.nio.file.Files.list(data(id).resolve("raft"))) {
            for (Path group : groups.toList()) {
                Path current = group.resolve("current");
                if (!java.nio.file.Files.isDirectory(current)) {
                    continue;
                }
                try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(current)) {
                    for (Path p : files.toList()) {
                        java.util.regex.Matcher m = java.util.regex.Pattern.compile("log_(?:inprogress_)?(\\d+)(?:-\\d+)?").matcher(p.getFileName().toString());
                        if (m.matches()) {
                            first = Math.min(first, Long.parseLong(m.group(1)));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return first == Long.MAX_VALUE ? -1 : first;
    }

    List<RecordedEvent> readAll(String id) {
        return clients.get(id).readAll(0, 0, Direction.FORWARDS, EventFilter.none()).collectList().block(Duration.ofSeconds(60));
    }

    private static int freePort() {
        try {
            return LoopbackPorts.next();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        clients.values().forEach(ReelClient::close);
        nodes.values().forEach(ServerProcess::close);
    }
}
