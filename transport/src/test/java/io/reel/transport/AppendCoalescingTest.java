package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.DistributionSummary;
import io.reel.store.AppendResult;
import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link ReelClient} coalesces concurrent appends into {@code append.batch} requests on a real server, and every
 * caller still gets its own outcome.
 */
@Timeout(60)
class AppendCoalescingTest {
    static final int APPENDS = 400;

    @TempDir
    Path dir;
    ServerFixture fixture;
    ReelClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (fixture != null) {
            fixture.close();
        }
    }

    ReelClient connect(ClientSettings.Transport transport, WireFormat format, boolean coalesce, int maxAppendBatch) {
        int port = transport == ClientSettings.Transport.TCP ? fixture.server.tcpAddress().getPort()
            : fixture.server.webSocketAddress().getPort();
        return ReelClient.connect(ClientSettings.builder().port(port).transport(transport).format(format)
            .coalesceAppends(coalesce).maxAppendBatch(maxAppendBatch).build()).block(TIMEOUT);
    }

    DistributionSummary batches() {
        return fixture.registry.get("reel.transport.append.batch").summary();
    }

    static EventData event(int n) {
        return EventData.json("Happened", "{\"n\":" + n + "}");
    }

    @ParameterizedTest
    @CsvSource({"TCP, PROTOBUF", "TCP, JSON", "WEBSOCKET, PROTOBUF", "WEBSOCKET, JSON"})
    void concurrentAppendsShareRoundTripsAndEachKeepsItsOwnOutcome(ClientSettings.Transport transport, WireFormat format) {
        fixture = new ServerFixture(dir);
        client = connect(transport, format, true, 64);
        // every third append claims the stream 'contended' as new: the first of them wins, the others conflict
        List<CompletableFuture<AppendResult>> results = new ArrayList<>();
        for (int i = 0; i < APPENDS; i++) {
            results.add(i % 3 == 0
                ? client.append("contended", ExpectedRevision.NO_STREAM, event(i)).toFuture()
                : client.append("own-" + i, ExpectedRevision.NO_STREAM, event(i)).toFuture());
        }
        CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();

        int conflicts = 0;
        List<Long> positions = new ArrayList<>();
        for (int i = 0; i < APPENDS; i++) {
            CompletableFuture<AppendResult> f = results.get(i);
            if (i % 3 == 0 && i > 0) {
                assertThat(f).isCompletedExceptionally();
                Throwable e = f.handle((r, error) -> error).join();
                assertThat(e).isInstanceOf(ReelException.class);
                assertThat(((ReelException) e).code()).isEqualTo(ErrorCode.WRONG_EXPECTED_VERSION);
                assertThat(e.getMessage()).contains("stream 'contended' is at revision 0");
                conflicts++;
            } else {
                AppendResult r = f.join();
                assertThat(r.nextExpectedRevision()).isZero();
                positions.add(r.firstPosition());
            }
        }
        assertThat(conflicts).isEqualTo((APPENDS - 1) / 3);
        // applied in the order they were made: positions rise with the call order
        assertThat(positions).isSorted().doesNotHaveDuplicates();
        List<RecordedEvent> stored = fixture.store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).collectList().block(TIMEOUT);
        assertThat(stored).hasSize(positions.size());
        assertThat(batches().count()).as("append.batch requests").isLessThan(APPENDS / 2);
        assertThat(batches().max()).as("the largest batch").isGreaterThan(1).isLessThanOrEqualTo(64);
        assertThat(batches().totalAmount()).isEqualTo(APPENDS);
    }

    @Test
    void appendsToOneStreamAreWrittenInTheOrderTheyWereMadeWhileTwoBatchesAreOnTheirWay() {
        fixture = new ServerFixture(dir);
        client = connect(ClientSettings.Transport.TCP, WireFormat.PROTOBUF, true, 16);
        List<CompletableFuture<AppendResult>> results = new ArrayList<>();
        for (int i = 0; i < APPENDS; i++) {
            results.add(client.append(i % 2 == 0 ? "ordered" : "other-" + (i % 7), ExpectedRevision.ANY, event(i)).toFuture());
        }
        results.forEach(CompletableFuture::join);
        List<String> order = fixture.store.readStream("ordered", 0, 0, Direction.FORWARDS).map(r -> new String(r.data()))
            .collectList().block(TIMEOUT);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < APPENDS; i += 2) {
            expected.add("{\"n\":" + i + "}");
        }
        assertThat(order).containsExactlyElementsOf(expected);
        assertThat(batches().totalAmount()).isEqualTo(APPENDS);
        assertThat(batches().count()).as("append.batch requests").isLessThan(APPENDS / 2);
    }

    @Test
    void callersAnsweredTogetherAppendAgainInOneBatch() throws Exception {
        fixture = new ServerFixture(dir);
        int callers = 40;
        try (SeverableProxy proxy = new SeverableProxy(fixture.server.tcpAddress())) {
            client = ReelClient.connect(ClientSettings.builder().port(proxy.port()).build()).block(TIMEOUT);
            proxy.holdReplies();
            // while the gate's append is on its way, appends to its stream wait in the client: one batch once it is answered
            CompletableFuture<AppendResult> gate = client.append("gate", ExpectedRevision.ANY, event(-1)).toFuture();
            List<CompletableFuture<AppendResult>> again = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<CompletableFuture<AppendResult>> first = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                String own = "own-" + i;
                // appends again the moment it is answered, as a caller in a loop does
                first.add(client.append("gate", ExpectedRevision.ANY, event(i))
                    .doOnSuccess(r -> again.add(client.append(own, ExpectedRevision.NO_STREAM, event(0)).toFuture())).toFuture());
            }
            proxy.releaseReplies();
            gate.get(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            for (CompletableFuture<AppendResult> f : first) {
                f.get(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            }
            assertThat(again).hasSize(callers);
            for (CompletableFuture<AppendResult> f : again) {
                assertThat(f.get(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS).nextExpectedRevision()).isZero();
            }
            client.close();
            client = null;
        }
        // the gate alone, the forty behind it, and the forty again: not the first few of them alone while the
        // rest wait for one of those to be answered
        assertThat(batches().count()).as("append.batch requests").isEqualTo(3);
        assertThat(batches().max()).isEqualTo(callers);
    }

    @Test
    void anIdleClientSendsEachAppendAtOnceAndAloneWithoutATimer() {
        fixture = new ServerFixture(dir);
        client = connect(ClientSettings.Transport.TCP, WireFormat.PROTOBUF, true, 1024);
        for (int i = 0; i < 5; i++) {
            assertThat(client.append("s", i == 0 ? ExpectedRevision.NO_STREAM : ExpectedRevision.exactly(i - 1L), event(i)).block(TIMEOUT).firstPosition()).isEqualTo(i);
        }
        assertThat(batches().count()).isEqualTo(5);
        assertThat(batches().max()).isEqualTo(1);
    }

    @Test
    void withoutCoalescingEveryAppendTakesThePlainRoute() {
        fixture = new ServerFixture(dir);
        client = connect(ClientSettings.Transport.TCP, WireFormat.PROTOBUF, false, 1024);
        List<CompletableFuture<AppendResult>> results = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            results.add(client.append("s-" + i, ExpectedRevision.NO_STREAM, event(i)).toFuture());
        }
        results.forEach(CompletableFuture::join);
        assertThat(batches().count()).isZero();
        assertThat(fixture.store.headPosition()).isEqualTo(50);
    }

    @Test
    void aRetriedAppendInTheSameBatchReturnsTheFirstResult() {
        fixture = new ServerFixture(dir);
        client = connect(ClientSettings.Transport.TCP, WireFormat.PROTOBUF, true, 1024);
        EventData once = event(1);
        List<CompletableFuture<AppendResult>> results = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            results.add(client.append("s", ExpectedRevision.ANY, once).toFuture());
        }
        results.forEach(CompletableFuture::join);
        assertThat(results).allSatisfy(f -> assertThat(f.join()).isEqualTo(new AppendResult(0, 0, 0)));
        assertThat(fixture.store.headPosition()).isEqualTo(1);
        assertThat(client.append("s", ExpectedRevision.exactly(0), event(2)).block(Duration.ofSeconds(10)).firstPosition()).isEqualTo(1);
    }
}
