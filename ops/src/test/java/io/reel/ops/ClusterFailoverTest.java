package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.util.ArrayList;
import java.util.Collections;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 *
 * <p>A second client is given the server list leader-first: it loses its node with the kill and moves to the
 * next; its own appends go on (retried with the same event ids) and its live subscription, resumed on the
 * other node, delivers every position once, in order. Last, with two of the three nodes stopped, the one left
 * refuses writes with {@code UNAVAILABLE} and writes nothing; once the two are started again, writes resume and the
 * refused append, retried with its event id, lands exactly once, at the head the minority left.
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
            String other = cluster.ids().stream().filter(id -> !id.equals(leader) && !id.equals(follower)).findFirst().orElseThrow();
            ReelClient roaming = ReelClient.connect(ClientSettings.builder().servers(cluster.rsocket(leader) + "," + cluster.rsocket(other))
                .requestTimeout(Duration.ofSeconds(60)).reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).build())
                .block(Duration.ofSeconds(60));
            List<Long> seen = Collections.synchronizedList(new ArrayList<>());
            Disposable subscription = roaming.subscribe(SubscribeOptions.fromStart())
                .subscribe(m -> {
                    if (m instanceof SubscriptionMessage.Event e) {
                        seen.add(e.event().position());
                    }
                });
            Map<Long, UUID> roamingAcks = new ConcurrentHashMap<>();
            Disposable roamingLoad = Flux.range(0, Integer.MAX_VALUE).concatMap(i -> {
                UUID id = UUID.randomUUID();
                return roaming.append("roaming", ExpectedRevision.ANY, EventData.of(id, "Roamed", EventData.JSON, "{}".getBytes(), null))
                    .doOnNext(r -> roamingAcks.put(r.firstPosition(), id));
            }).subscribe();
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
                int roamingBeforeKill = roamingAcks.size();
                await().atMost(Duration.ofSeconds(90)).until(() -> acknowledged.size() >= beforeKill + 300
                    && roamingAcks.size() >= roamingBeforeKill + 20);
                load.dispose();
                roamingLoad.dispose();
                LOG.info("new leader {} after {} ms; {} appends acknowledged before the kill, {} in all, {} failed attempts retried",
                    next, electionMillis, beforeKill, acknowledged.size(), unavailable.get());
                assertThat(electionMillis).as("time to a new leader after kill -9 of the leader, ms").isLessThanOrEqualTo(5_000);
            } finally {
                load.dispose();
                roamingLoad.dispose();
            }
            cluster.restart(leader);
            // appends in flight when the load stopped may still land: wait until the head stands still
            long head = ClusterRecoveryTest.settledHead(cluster, follower);
            cluster.awaitHeads(head, Duration.ofSeconds(90));
            Map<Long, UUID> allAcks = new java.util.HashMap<>(acknowledged);
            allAcks.putAll(roamingAcks);
            ClusterRecoveryTest.assertOneLog(cluster, head, allAcks);
            assertProjectionsCountEachEventOnce(cluster, head);
            await().atMost(Duration.ofSeconds(60)).until(() -> seen.size() >= head);
            subscription.dispose();
            List<Long> delivered = new ArrayList<>(seen);
            for (int i = 0; i < head; i++) {
                assertThat(delivered.get(i)).as("the roaming subscription's %dth event (no gap, no duplicate)", i).isEqualTo(i);
            }
            roaming.close();
            LOG.info("every node holds the same {} events; the roaming client had {} appends acknowledged and its subscription saw {} events",
                head, roamingAcks.size(), delivered.size());

            // a minority: with two of three nodes stopped, the one left takes no write
            String last = cluster.ids().get(0);
            for (String id : cluster.ids()) {
                if (!id.equals(last)) {
                    cluster.kill(id);
                }
            }
            EventData lost = EventData.of(UUID.randomUUID(), "Lost", EventData.JSON, "{}".getBytes(), null);
            Throwable refused = cluster.client(last).append("minority", ExpectedRevision.ANY, lost)
                .map(r -> (Throwable) null).onErrorResume(e -> Mono.just(e)).block(Duration.ofSeconds(60));
            assertThat(refused).isInstanceOf(ReelException.class);
            assertThat(((ReelException) refused).code()).isEqualTo(ErrorCode.UNAVAILABLE);
            assertThat(cluster.client(last).head().block(Duration.ofSeconds(10))).as("nothing written in the minority").isEqualTo(head);

            // the majority back: writes resume, and the refused append, retried with its event id, lands once
            for (String id : cluster.ids()) {
                if (!id.equals(last)) {
                    cluster.restart(id);
                }
            }
            AppendResult retried = Mono.defer(() -> cluster.client(last).append("minority", ExpectedRevision.ANY, lost))
                .retryWhen(Retry.fixedDelay(300, Duration.ofMillis(200))).block(Duration.ofSeconds(90));
            assertThat(retried.firstPosition()).as("the minority wrote nothing: the retried append lands at the old head").isEqualTo(head);
            AppendResult resumed = cluster.client(last).append("after", ExpectedRevision.ANY, EventData.json("Resumed", "{}"))
                .block(Duration.ofSeconds(60));
            assertThat(resumed.firstPosition()).isEqualTo(head + 1);
            cluster.awaitHeads(head + 2, Duration.ofSeconds(60));
            List<RecordedEvent> after = cluster.readAll(last);
            assertThat(after.stream().filter(e -> e.eventId().equals(lost.eventId()))).as("the refused event, once").hasSize(1);
            for (String id : cluster.ids()) {
                List<RecordedEvent> log = cluster.readAll(id);
                assertThat(log).as("read.all on node %s after the majority is back", id).hasSize(after.size());
                for (int i = 0; i < log.size(); i++) {
                    assertThat(log.get(i).encoded()).as("node %s position %d, byte for byte", id, i).isEqualTo(after.get(i).encoded());
                }
            }
        }
    }

    /**
     * The server's {@code event-types} projection runs on every node over its own log: on the killed and restarted
     * node it went on from its checkpoint, on the others through the leader change, and on each it counts every
     * event of the log once.
     */
    private static void assertProjectionsCountEachEventOnce(TestCluster cluster, long head) {
        Map<String, Long> expected = new java.util.TreeMap<>();
        cluster.readAll(cluster.ids().get(0)).forEach(e -> expected.merge(e.type(), 1L, Long::sum));
        for (String id : cluster.ids()) {
            ReelClient client = cluster.client(id);
            await().atMost(Duration.ofSeconds(60)).until(() -> client.projectionState("event-types").block(Duration.ofSeconds(10)).getPosition() >= head);
            io.reel.proto.ProjectionState state = client.projectionState("event-types").block(Duration.ofSeconds(10));
            assertThat(state.getPosition()).as("event-types on node %s", id).isEqualTo(head);
            Object counts = HttpEndpointTest.object(state.getState().toStringUtf8()).get("counts");
            assertThat(counts).as("events per type counted by node %s's event-types projection", id).isEqualTo(expected);
        }
    }
}
