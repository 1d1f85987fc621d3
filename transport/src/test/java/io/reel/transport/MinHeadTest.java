package io.reel.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import io.reel.proto.ClusterInfo;
import io.reel.proto.EventRecord;
import io.reel.proto.ReadAllRequest;
import io.reel.proto.StoreInfo;
import io.reel.store.AppendResult;
import io.reel.store.Direction;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.SubscriptionMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * {@code min_head} (read-your-writes on any node of a cluster) and what a standalone server says about its
 * place in a cluster: a read waits until the head reaches {@code min_head}, and fails with {@code UNAVAILABLE}
 * when it does not in time.
 */
@Timeout(60)
class MinHeadTest {
    private static final String PROTOBUF = "application/x-protobuf";

    @TempDir
    Path dir;

    @Test
    void aReadWaitsForMinHeadThenReadsWhatWasWrittenBeforeIt() throws Exception {
        try (ServerFixture fixture = new ServerFixture(dir, b -> b.minHeadWait(Duration.ofSeconds(20)));
             RawClient client = RawClient.connect(fixture.server, RawClient.Kind.TCP, PROTOBUF)) {
            fixture.store.append("s", ExpectedRevision.ANY, EventData.json("T", "{}")).block(ServerFixture.TIMEOUT);
            Mono<List<byte[]>> read = client.stream("read.all", ReadAllRequest.newBuilder().setMinHead(3).build().toByteArray())
                .collectList().cache();
            read.subscribe();
            // the read has not answered while the head is 1; two appends later it has, with all three events
            Mono.delay(Duration.ofMillis(200)).then(fixture.store.append("s", ExpectedRevision.ANY, EventData.json("T", "{}"),
                EventData.json("T", "{}"))).subscribeOn(Schedulers.boundedElastic()).subscribe();
            List<byte[]> records = read.block(ServerFixture.TIMEOUT);
            assertThat(records).hasSize(3);
            assertThat(EventRecord.parseFrom(records.get(2)).getPosition()).isEqualTo(2);
        }
    }

    @Test
    void aReadWhoseMinHeadIsNotReachedInTimeFailsWithUnavailable() {
        try (ServerFixture fixture = new ServerFixture(dir, b -> b.minHeadWait(Duration.ofMillis(200)));
             RawClient client = RawClient.connect(fixture.server, RawClient.Kind.TCP, PROTOBUF)) {
            ServerFixture.assertFails(client.stream("read.all", ReadAllRequest.newBuilder().setMinHead(5).build().toByteArray()),
                "UNAVAILABLE");
        }
    }

    @Test
    void reelClientReadsAndSubscribesAtLeastToAHead() {
        // the server waits 600 ms for a min_head; the client tries again (three times) while the head is not there, so the
        // appends made 100 ms in have more than two seconds to be durable on a loaded machine
        try (ServerFixture fixture = new ServerFixture(dir, b -> b.minHeadWait(Duration.ofMillis(600)));
             ReelClient client = ReelClient.connect(ClientSettings.builder().port(fixture.server.tcpAddress().getPort())
                 .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(100)).build()).block(ServerFixture.TIMEOUT)) {
            AppendResult first = client.append("s", ExpectedRevision.ANY, EventData.json("T", "{}")).block(ServerFixture.TIMEOUT);
            io.reel.store.EventSource reading = client.atLeast(first.lastPosition() + 3);
            Mono<List<RecordedEvent>> read = reading.readStream("s", 0, 0, Direction.FORWARDS).collectList().cache();
            read.subscribe();
            Mono<List<SubscriptionMessage>> live = reading.subscribe(io.reel.store.SubscribeOptions.fromStart()).take(4).collectList().cache();
            live.subscribe();
            Mono.delay(Duration.ofMillis(100)).then(client.append("s", ExpectedRevision.ANY, EventData.json("T", "{}"),
                EventData.json("T", "{}"))).subscribe();
            assertThat(read.block(ServerFixture.TIMEOUT)).extracting(RecordedEvent::position).containsExactly(0L, 1L, 2L);
            assertThat(live.block(ServerFixture.TIMEOUT)).first().isInstanceOf(SubscriptionMessage.Event.class);
            assertThat(live.block(ServerFixture.TIMEOUT)).filteredOn(m -> m instanceof SubscriptionMessage.Event).hasSize(3);
            // a head that never comes: UNAVAILABLE once the tries are spent
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.atLeast(1_000)
                    .readAll(0, 0, Direction.FORWARDS, io.reel.store.EventFilter.none()).blockLast(ServerFixture.TIMEOUT))
                .isInstanceOfSatisfying(io.reel.store.ReelException.class, e -> assertThat(e.code()).isEqualTo(io.reel.store.ErrorCode.UNAVAILABLE));
        }
    }

    @Test
    void aStandaloneServerSaysSo() throws Exception {
        try (ServerFixture fixture = new ServerFixture(dir);
             RawClient client = RawClient.connect(fixture.server, RawClient.Kind.TCP, PROTOBUF)) {
            StoreInfo info = StoreInfo.parseFrom(client.call("info", Empty.getDefaultInstance().toByteArray()).block(ServerFixture.TIMEOUT));
            assertThat(info.getRole()).isEqualTo("STANDALONE");
            ClusterInfo cluster = ClusterInfo.parseFrom(client.call("cluster.info", new byte[0]).block(ServerFixture.TIMEOUT));
            assertThat(cluster.getMembersList()).singleElement().satisfies(m -> assertThat(m.getRole()).isEqualTo("STANDALONE"));
        }
    }
}
