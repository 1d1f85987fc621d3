package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.transport.ReelClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Three cluster nodes in child JVMs on loopback, under load, recovering from what a kill of the leader does not
 * cover: a node whose disk is gone after the others purged the Raft log it would need (it rejoins through the
 * leader's snapshot), and a leader frozen with SIGSTOP (replaced, then stepping down when it resumes). Each
 * ends with every acknowledged event on every node exactly once, at the position its acknowledgement named,
 * and {@code read.all} the same on every node, byte for byte.
 */
class ClusterRecoveryTest {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterRecoveryTest.class);

    @TempDir
    Path dir;

    @Test
    @Timeout(150)
    void aNodeWhoseDiskIsGoneRejoinsThroughASnapshotWhileAppendsGoOn() {
        // snapshots every 40 entries, and segments small enough that the copy holds sealed ones and the active one
        List<String> flags = List.of("--snapshot-every", "40", "--segment-size", "2m", "--max-event-size", "64k");
        try (TestCluster cluster = new TestCluster(dir, flags, "a", "b", "c").start()) {
            String leader = cluster.awaitLeader(Duration.ofSeconds(60));
            String victim = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
            List<String> others = cluster.ids().stream().filter(id -> !id.equals(victim)).toList();
            Load load = new Load(cluster.client(leader), 4, 8, 1024);
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> load.acks.size() >= 100);
                cluster.kill(victim);
                cluster.wipe(victim);
                // made while the victim is away, and purged from the others' Raft logs below: only the snapshot can
                // bring the victim this group
                cluster.client(leader).groups().create(io.reel.store.groups.GroupOptions.named("while-away").fromStart())
                    .block(Duration.ofSeconds(60));
                long created = cluster.client(leader).clusterInfo().block(Duration.ofSeconds(30)).getCommitIndex();
                // the others snapshot and purge their Raft logs past what the victim would replay from
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> others.stream().allMatch(id -> cluster.raftLogStart(id) > created));
                LOG.info("Raft logs now start at {} and {}; {} appends acknowledged", cluster.raftLogStart(others.get(0)),
                    cluster.raftLogStart(others.get(1)), load.acks.size());
                int beforeRestart = load.acks.size();
                cluster.restart(victim);
                await().atMost(Duration.ofSeconds(60)).until(() -> load.acks.size() >= beforeRestart + 100);
            } finally {
                load.close();
            }
            long head = settledHead(cluster, others.get(0));
            try {
                cluster.awaitHeads(head, Duration.ofSeconds(60));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError("node " + victim + " did not reach head " + head + "; its log:\n" + interesting(cluster.node(victim).stderr()), e);
            }
            assertThat(cluster.node(victim).stderr()).as("the victim's log says it imported records from a snapshot")
                .contains("from snapshot");
            assertThat(cluster.client(victim).groups().list().block(Duration.ofSeconds(30)))
                .as("the group created while the victim was away came with the snapshot")
                .extracting(io.reel.store.groups.GroupStatus::name).containsExactly("while-away");
            assertOneLog(cluster, head, load.acks);
        }
    }

    @Test
    @Timeout(120)
    void aFrozenLeaderIsReplacedAndWritesNothingOfItsOwnWhenItResumes() {
        try (TestCluster cluster = new TestCluster(dir, "a", "b", "c").start()) {
            String leader = cluster.awaitLeader(Duration.ofSeconds(60));
            String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
            String next;
            Load load = new Load(cluster.client(follower), 8, 1, 100);
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> load.acks.size() >= 200);
                long frozenAt = System.nanoTime();
                cluster.freeze(leader);
                next = cluster.awaitLeader(Duration.ofSeconds(30));
                long electionMillis = (System.nanoTime() - frozenAt) / 1_000_000;
                assertThat(next).isNotEqualTo(leader);
                assertThat(electionMillis).as("time to a new leader after SIGSTOP of the leader, ms").isLessThanOrEqualTo(5_000);
                int beforeThaw = load.acks.size();
                await().atMost(Duration.ofSeconds(60)).until(() -> load.acks.size() >= beforeThaw + 200);
                cluster.thaw(leader);
                String after = cluster.awaitLeader(Duration.ofSeconds(30));
                assertThat(after).as("the resumed leader steps down: every node, itself included, names another").isNotEqualTo(leader);
                LOG.info("new leader {} {} ms after the freeze; {} appends acknowledged", next, electionMillis, load.acks.size());
                int afterThaw = load.acks.size();
                await().atMost(Duration.ofSeconds(60)).until(() -> load.acks.size() >= afterThaw + 100);
            } finally {
                load.close();
            }
            long head = settledHead(cluster, follower);
            cluster.awaitHeads(head, Duration.ofSeconds(60));
            assertOneLog(cluster, head, load.acks);
        }
    }

    /** The lines of a node's log that say what went wrong. */
    private static String interesting(String log) {
        StringBuilder out = new StringBuilder();
        for (String line : log.split("\n")) {
            if ((line.contains("Exception") || line.contains("Caused by") || line.contains("napshot") || line.contains("state machine at")
                || line.contains("Throwable")) && !line.contains("appendEntries") && !line.contains("APPEND_ENTRIES")) {
                out.append(line.length() > 400 ? line.substring(0, 400) : line).append('\n');
            }
        }
        // the first lines say what went wrong, the last what it led to
        return out.length() > 20_000 ? out.substring(0, 10_000) + "\n…\n" + out.substring(out.length() - 10_000) : out.toString();
    }

    /** Appends in flight when the load stopped may still land: waits until the head stands still. */
    static long settledHead(TestCluster cluster, String via) {
        AtomicLong settled = new AtomicLong(-1);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            long now = cluster.client(via).head().block(Duration.ofSeconds(10));
            return settled.getAndSet(now) == now;
        });
        return settled.get();
    }

    /**
     * Every node holds {@code head} records at dense positions, each event once, each acknowledged event at the
     * position its acknowledgement named, and the same bytes as every other node.
     */
    static void assertOneLog(TestCluster cluster, long head, Map<Long, UUID> acks) {
        List<String> ids = cluster.ids();
        List<RecordedEvent> reference = cluster.readAll(ids.get(0));
        assertThat(reference).hasSize((int) head);
        Set<UUID> seen = new HashSet<>();
        for (int i = 0; i < reference.size(); i++) {
            RecordedEvent e = reference.get(i);
            assertThat(e.position()).as("positions are dense").isEqualTo(i);
            assertThat(seen.add(e.eventId())).as("event %s is in the log once", e.eventId()).isTrue();
        }
        acks.forEach((position, id) -> assertThat(reference.get((int) (long) position).eventId())
            .as("the event acknowledged at %d", position).isEqualTo(id));
        for (String id : ids.subList(1, ids.size())) {
            List<RecordedEvent> log = cluster.readAll(id);
            assertThat(log).as("read.all on node %s", id).hasSize(reference.size());
            for (int i = 0; i < log.size(); i++) {
                assertThat(log.get(i).encoded()).as("node %s position %d, byte for byte", id, i).isEqualTo(reference.get(i).encoded());
            }
        }
    }

    /**
     * Producers appending through one client until closed, each append retried with the same event ids until it
     * is acknowledged (a retry never writes it twice); the first event of each acknowledged append by position.
     */
    static final class Load implements AutoCloseable {
        final Map<Long, UUID> acks = new ConcurrentHashMap<>();
        private final Disposable running;

        Load(ReelClient client, int producers, int eventsPerAppend, int bytes) {
            running = Flux.range(0, producers).flatMap(p -> Flux.range(0, Integer.MAX_VALUE).concatMap(i -> {
                List<EventData> events = new ArrayList<>();
                for (int e = 0; e < eventsPerAppend; e++) {
                    byte[] data = new byte[bytes];
                    java.util.Arrays.fill(data, (byte) ('a' + (i + e) % 26));
                    events.add(EventData.of(UUID.randomUUID(), "Loaded", EventData.OCTET_STREAM, data, null));
                }
                return Mono.defer(() -> client.append("load-" + p, ExpectedRevision.ANY, events))
                    .retryWhen(Retry.fixedDelay(Long.MAX_VALUE, Duration.ofMillis(100)))
                    .doOnNext(r -> acks.put(r.firstPosition(), events.get(0).eventId()));
            }), producers).subscribe();
        }

        @Override
        public void close() {
            running.dispose();
        }
    }
}
