package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import io.reel.proto.ClusterInfo;
import io.reel.proto.ClusterMember;
import io.reel.store.AppendResult;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * Three voters and one read replica ({@code --listeners}) in child JVMs: what is appended to a voter is read
 * and delivered live on the listener, in the voters' order; a write sent to the listener is forwarded and
 * acknowledged; the listener is listed as a LISTENER (it does not vote) with its applied index, and on the
 * leader's {@code /api/cluster} with its match index and lag.
 */
class ClusterListenerTest {
    private static final int EVENTS = 60;

    @TempDir
    Path dir;

    @Test
    @Timeout(240)
    void aListenerServesReadsAndLiveSubscriptionsAndForwardsWrites() throws Exception {
        // no failover here: a long election timeout, so that four JVMs busy on two cores (a 6 MB entry replicated and
        // forced) cannot start an election that the term and leader checks below would take for a failure
        try (TestCluster cluster = new TestCluster(dir, "a", "b", "c").listeners("r").electionTimeout(Duration.ofSeconds(5)).start()) {
            String leader = cluster.awaitLeader(Duration.ofSeconds(60));
            assertThat(leader).isNotEqualTo("r");
            String follower = cluster.ids().stream().filter(id -> !id.equals(leader) && !id.equals("r")).findFirst().orElseThrow();

            List<Long> live = Collections.synchronizedList(new ArrayList<>());
            Disposable subscription = cluster.client("r").subscribe(SubscribeOptions.fromStart()).subscribe(m -> {
                if (m instanceof SubscriptionMessage.Event e) {
                    live.add(e.event().position());
                }
            });
            try {
                List<Long> appended = new ArrayList<>();
                for (int i = 0; i < EVENTS; i++) {
                    AppendResult r = cluster.client(follower).append("on-voter-" + (i % 5), ExpectedRevision.ANY,
                        EventData.of(UUID.randomUUID(), "Voted", EventData.JSON, ("{\"i\":" + i + "}").getBytes(), null)).block(Duration.ofSeconds(60));
                    appended.add(r.firstPosition());
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> live.containsAll(appended));

                UUID forwarded = UUID.randomUUID();
                AppendResult viaListener = cluster.client("r").append("on-listener", ExpectedRevision.NO_STREAM,
                    EventData.of(forwarded, "Forwarded", EventData.JSON, "{}".getBytes(), null)).block(Duration.ofSeconds(60));
                assertThat(viaListener).isNotNull();
                await().atMost(Duration.ofSeconds(60)).until(() -> live.contains(viaListener.firstPosition()));

                // an append above Ratis' default entry limit (4 MB) is one entry of its own: written, and no leader change for it
                long term = cluster.client(leader).clusterInfo().block(Duration.ofSeconds(30)).getTerm();
                List<EventData> large = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    large.add(EventData.of(UUID.randomUUID(), "Large", EventData.OCTET_STREAM, new byte[1000 * 1024], null));
                }
                AppendResult big = cluster.client(follower).append("large", ExpectedRevision.NO_STREAM, large).block(Duration.ofSeconds(60));
                assertThat(big.lastPosition() - big.firstPosition()).isEqualTo(5);
                assertThat(clusterInfo(cluster, leader).getTerm()).as("the term after a 6 MB append").isEqualTo(term);
                await().atMost(Duration.ofSeconds(60)).until(() -> live.contains(big.lastPosition()));

                long head = big.lastPosition() + 1;
                cluster.awaitHeads(head, Duration.ofSeconds(60));
                List<RecordedEvent> onListener = cluster.readAll("r");
                List<RecordedEvent> onLeader = cluster.readAll(leader);
                assertThat(onListener).extracting(RecordedEvent::position).isEqualTo(onLeader.stream().map(RecordedEvent::position).toList());
                assertThat(onListener).extracting(RecordedEvent::eventId).isEqualTo(onLeader.stream().map(RecordedEvent::eventId).toList());
                assertThat(onListener).extracting(RecordedEvent::eventId).contains(forwarded);
                synchronized (live) {
                    assertThat(live).as("live positions on the listener, once each, in order").isEqualTo(
                        onLeader.stream().map(RecordedEvent::position).toList());
                }

                ClusterInfo own = clusterInfo(cluster, "r");
                assertThat(own.getNodeId()).isEqualTo("r");
                assertThat(own.getLeaderId()).isEqualTo(leader);
                ClusterMember self = member(own, "r");
                assertThat(self.getRole()).isEqualTo("LISTENER");
                assertThat(self.getAppliedIndex()).isPositive();
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    ClusterInfo onLeaderInfo = clusterInfo(cluster, leader);
                    assertThat(member(onLeaderInfo, leader).getRole()).isEqualTo("LEADER");
                    ClusterMember listener = member(onLeaderInfo, "r");
                    assertThat(listener.getRole()).isEqualTo("LISTENER");
                    assertThat(listener.getMatchIndex()).as("the listener's match index on the leader").isPositive();
                    assertThat(listener.getLagEntries()).as("the listener's lag on the leader, entries").isBetween(0L, 1L);
                    assertThat(member(onLeaderInfo, follower).getLagEntries()).isBetween(0L, 1L);
                    assertThat(onLeaderInfo.getCommitIndex()).isGreaterThanOrEqualTo(listener.getMatchIndex());
                });
            } finally {
                subscription.dispose();
            }
        }
    }

    /** {@code GET /api/cluster} of a node, parsed with the protobuf JSON mapping it is printed in. */
    private static ClusterInfo clusterInfo(TestCluster cluster, String id) throws Exception {
        Http.Response r = Http.get(cluster.node(id).http(), "/api/cluster");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).contains("\"lagEntries\"", "\"matchIndex\"", "\"appliedIndex\"");
        ClusterInfo.Builder info = ClusterInfo.newBuilder();
        JsonFormat.parser().merge(r.body(), info);
        return info.build();
    }

    private static ClusterMember member(ClusterInfo info, String id) {
        return info.getMembersList().stream().filter(m -> m.getId().equals(id)).findFirst().orElseThrow();
    }
}
