package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.AppendResult;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.ExpectedRevision;
import io.reel.store.groups.GroupOptions;
import io.reel.store.groups.GroupStatus;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;

/**
 * A consumer group on three cluster nodes in child JVMs: the group is created through a follower, its
 * consumer (given the server list follower-first) is sent to the leader, acknowledges the first half of the
 * events and holds the rest; once the acknowledgements are committed (a follower's replicated state shows the
 * checkpoint), the leader is killed with SIGKILL. The consumer goes on at the new leader and receives every
 * event it had not acknowledged, and none it had; later appends reach it too.
 */
class ClusterGroupFailoverTest {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterGroupFailoverTest.class);
    private static final int EVENTS = 100;

    @TempDir
    Path dir;

    @Test
    @Timeout(240)
    void aGroupConsumerGoesOnFromItsAcknowledgementsAfterTheLeaderIsKilled() {
        try (TestCluster cluster = new TestCluster(dir, "a", "b", "c").start()) {
            String leader = cluster.awaitLeader(Duration.ofSeconds(60));
            List<String> followers = cluster.ids().stream().filter(id -> !id.equals(leader)).toList();
            ReelClient viaFollower = cluster.client(followers.get(0));

            // a follower does not dispatch groups: it tells the consumer where the leader is
            viaFollower.groups().create(GroupOptions.named("billing").filter(EventFilter.builder().streamPrefix("g-").build())
                .fromStart().maxInFlight(EVENTS).ackTimeout(Duration.ofMinutes(5))).block(Duration.ofSeconds(60));

            List<Long> positions = new ArrayList<>();
            for (int i = 0; i < EVENTS; i++) {
                AppendResult r = viaFollower.append("g-" + i, ExpectedRevision.NO_STREAM,
                    EventData.of(UUID.randomUUID(), "Billed", EventData.JSON, ("{\"i\":" + i + "}").getBytes(), null)).block(Duration.ofSeconds(60));
                positions.add(r.firstPosition());
            }
            long cutoff = positions.get(EVENTS / 2);
            Set<Long> acked = ConcurrentHashMap.newKeySet();
            List<Long> deliveredBeforeKill = Collections.synchronizedList(new ArrayList<>());
            List<Long> deliveredAfterKill = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean killed = new AtomicBoolean();
            AtomicBoolean ackAll = new AtomicBoolean();
            ReelClient consumer = ReelClient.connect(ClientSettings.builder()
                .servers(String.join(",", cluster.rsocket(followers.get(0)), cluster.rsocket(leader), cluster.rsocket(followers.get(1))))
                .requestTimeout(Duration.ofSeconds(60)).reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).build())
                .block(Duration.ofSeconds(60));
            Disposable joined = consumer.groups().join("billing", EVENTS, "roaming").subscribe(d -> {
                long p = d.event().position();
                (killed.get() ? deliveredAfterKill : deliveredBeforeKill).add(p);
                if (p < cutoff || ackAll.get()) {
                    acked.add(p);
                    d.ack();
                }
            });
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> deliveredBeforeKill.containsAll(positions));
                // the acknowledgements are committed once a follower's copy of the group stands at the cutoff
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> checkpoint(viaFollower) == cutoff);
                // the consumer was sent to the leader, and the followers keep the group's state without dispatching it
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(cluster.client(leader).groups().list()
                    .block(Duration.ofSeconds(30))).singleElement()
                    .satisfies(g -> assertThat(g.consumers()).extracting(GroupStatus.Consumer::id).containsExactly("roaming")));
                assertThat(viaFollower.groups().list().block(Duration.ofSeconds(30))).singleElement()
                    .satisfies(g -> assertThat(g.consumers()).isEmpty());

                killed.set(true);
                cluster.kill(leader);
                String next = cluster.awaitLeader(Duration.ofSeconds(60));
                assertThat(next).isNotEqualTo(leader);
                List<Long> unacked = positions.subList(EVENTS / 2, EVENTS);
                await().atMost(Duration.ofSeconds(90)).until(() -> deliveredAfterKill.containsAll(unacked));
                synchronized (deliveredAfterKill) {
                    assertThat(deliveredAfterKill).as("redelivered after the failover: only what was not acknowledged")
                        .allSatisfy(p -> assertThat(p).isGreaterThanOrEqualTo(cutoff));
                    assertThat(new TreeSet<>(deliveredAfterKill)).containsExactlyElementsOf(unacked);
                }
                LOG.info("leader {} killed, {} leads; {} deliveries after the kill, all of the {} unacknowledged", leader, next,
                    deliveredAfterKill.size(), unacked.size());

                ackAll.set(true);
                ReelClient onNext = cluster.client(next);
                synchronized (deliveredAfterKill) {
                    deliveredAfterKill.clear();
                }
                // the held deliveries time out after minutes; appends after the failover reach the consumer at once
                List<Long> later = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    later.add(onNext.append("g-later-" + i, ExpectedRevision.ANY,
                        EventData.of(UUID.randomUUID(), "Billed", EventData.JSON, "{}".getBytes(), null)).block(Duration.ofSeconds(60)).firstPosition());
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> deliveredAfterKill.containsAll(later));
                // a group's status is refreshed on its tick (up to a second here)
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(onNext.groups().list().block(Duration.ofSeconds(30)))
                    .singleElement().satisfies(g -> assertThat(g.consumers()).extracting(GroupStatus.Consumer::id).containsExactly("roaming")));
            } finally {
                joined.dispose();
                consumer.close();
            }
        }
    }

    /** The group's checkpoint as a node's replicated copy holds it. */
    private static long checkpoint(ReelClient client) {
        List<GroupStatus> list = client.groups().list().block(Duration.ofSeconds(30));
        return list == null || list.isEmpty() ? -1 : list.get(0).checkpoint();
    }
}
