package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.AppendResult;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.transport.ReelClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
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
 * Three cluster nodes in child JVMs on loopback, under load from a client connected to a follower: the leader
 * is killed with SIGKILL, a new one is elected, appends go on through the same client, and once the killed
 * node has been started again and caught up, every acknowledged event is on every node exactly once, at the
 * position its acknowledgement named, positions are dense, and {@code read.all} is the same on all three.
 */
class ClusterFailoverTest {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterFailoverTest.class);
    private static final int PRODUCERS = 16;

    @TempDir
    Path dir;

    @Test
    @Timeout(300)
    void killingTheLeaderUnderLoadLosesNothingAcknowledged() {
        try (TestCluster cluster = new TestCluster(dir, "a", "b", "c").start()) {
            String leader = cluster.awaitLeader(Duration.ofSeconds(60));
            String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
            ReelClient client = cluster.client(follower);
            Map<Long, UUID> acknowledged = new ConcurrentHashMap<>();
            AtomicInteger unavailable = new AtomicInteger();
            Disposable load = Flux.range(0, PRODUCERS).flatMap(p -> Flux.range(0, Integer.MAX_VALUE).concatMap(i -> {
                UUID id = UUID.randomUUID();
                EventData event = EventData.of(id, "Loaded", EventData.JSON, ("{\"p\":" + p + ",\"i\":" + i + "}").getBytes(), null);
                // retried with the same event id until it is acknowledged: a retry never writes it twice
                return Mono.defer(() -> client.append("load-" + p, ExpectedRevision.ANY, event))
                    .doOnError(e -> unavailable.incrementAndGet())
                    .retryWhen(Retry.fixedDelay(Long.MAX_VALUE, Duration.ofMillis(100)))
                    .doOnNext((AppendResult r) -> acknowledged.put(r.firstPosition(), id));
            }), PRODUCERS).subscribe();
            try {
                await().atMost(Duration.ofSeconds(90)).until(() -> acknowledged.size() >= 300);
                int beforeKill = acknowledged.size();
                long killedAt = System.nanoTime();
                cluster.kill(leader);
                String next = cluster.awaitLeader(Duration.ofSeconds(30));
                long electionMillis = (System.nanoTime() - killedAt) / 1_000_000;
                assertThat(next).isNotEqualTo(leader);
                await().atMost(Duration.ofSeconds(90)).until(() -> acknowledged.size() >= beforeKill + 300);
                load.dispose();
                LOG.info("new leader {} after {} ms; {} appends acknowledged before the kill, {} in all, {} failed attempts retried",
                    next, electionMillis, beforeKill, acknowledged.size(), unavailable.get());
                assertThat(electionMillis).as("time to a new leader after kill -9 of the leader, ms").isLessThanOrEqualTo(5_000);
            } finally {
                load.dispose();
            }
            cluster.restart(leader);
            long head = cluster.client(follower).head().block(Duration.ofSeconds(30));
            // in-flight appends that the dispose cut off may still land: wait for the heads to settle on every node
            await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ofSeconds(2)).until(() -> {
                long now = cluster.client(follower).head().block(Duration.ofSeconds(10));
                boolean settled = now == head;
                return settled;
            });
            cluster.awaitHeads(head, Duration.ofSeconds(90));
            List<RecordedEvent> reference = cluster.readAll(follower);
            assertThat(reference).hasSize((int) head);
            Set<UUID> ids = new HashSet<>();
            for (int i = 0; i < reference.size(); i++) {
                RecordedEvent e = reference.get(i);
                assertThat(e.position()).as("positions are dense").isEqualTo(i);
                assertThat(ids.add(e.eventId())).as("event %s is in the log once", e.eventId()).isTrue();
            }
            acknowledged.forEach((position, id) -> assertThat(reference.get((int) (long) position).eventId())
                .as("the event acknowledged at %d", position).isEqualTo(id));
            for (String id : cluster.ids()) {
                List<RecordedEvent> log = cluster.readAll(id);
                assertThat(log).as("read.all on node %s", id).hasSize(reference.size());
                for (int i = 0; i < log.size(); i++) {
                    assertThat(log.get(i).eventId()).as("node %s position %d", id, i).isEqualTo(reference.get(i).eventId());
                    assertThat(log.get(i).encoded()).as("node %s position %d, byte for byte", id, i).isEqualTo(reference.get(i).encoded());
                }
            }
        }
    }
}
