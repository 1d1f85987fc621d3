package io.reel.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocatorMetric;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.reel.proto.AppendBatch;
import io.reel.proto.AppendBatchResult;
import io.reel.proto.AppendOutcome;
import io.reel.proto.AppendRequest;
import io.reel.proto.EventRecord;
import io.reel.proto.ReadAllRequest;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.transport.ClientTransport;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.transport.netty.client.WebsocketClientTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.netty.http.client.HttpClient;
import reactor.netty.tcp.TcpClient;

/**
 * A client that asks for every record and then stops reading must not make the server read the log into memory:
 * the server's streams wait while the socket is full ({@code WritabilityGate}), also when it reads in spurts. Without
 * the gate the server's memory grew by 46–80% of the log's size here; with it, by 0–2 MB. When the client reads
 * again it gets every record, in order. A client that sends requests and does not read their answers is not read
 * either.
 */
class StalledReaderTest {
    private static final int BATCHES = 100;
    private static final int PER_BATCH = 1000;

    @ParameterizedTest
    @EnumSource(RawClient.Kind.class)
    void aReaderThatStopsReadingCostsTheServerLittleAndLosesNothing(RawClient.Kind kind, @TempDir Path dir) throws Exception {
        try (ServerFixture fixture = new ServerFixture(dir)) {
            for (int b = 0; b < BATCHES; b++) {
                List<EventData> events = new ArrayList<>();
                for (int i = 0; i < PER_BATCH; i++) {
                    events.add(EventData.of("T", new byte[1000]));
                }
                fixture.store.append("s-" + b, ExpectedRevision.NO_STREAM, events).block(ServerFixture.TIMEOUT);
            }
            long before = heapAfterGc();

            AtomicReference<Channel> channel = new AtomicReference<>();
            RSocket stalled = RSocketConnector.create().dataMimeType(WireContractTest.PROTOBUF).metadataMimeType(RawClient.COMPOSITE)
                .connect(transport(fixture.server, kind, channel::set)).block(ServerFixture.TIMEOUT);
            setAutoRead(channel.get(), false);
            AtomicLong next = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Disposable read = stalled.requestStream(RawClient.payload(RawClient.route("read.all"), ReadAllRequest.getDefaultInstance().toByteArray()))
                .subscribe(p -> {
                    long position = WireContractTest.parse(EventRecord.parser(), RawClient.data(p)).getPosition();
                    if (!next.compareAndSet(position, position + 1)) {
                        failure.compareAndSet(null, new AssertionError("got position " + position + ", expected " + next.get()));
                    }
                }, failure::set);
            try {
                assertHeldBack(before);
                // a reader that reads in spurts of 1,000 records: every time its socket fills again, the server's
                // streams wait again
                for (int spurt = 0; spurt < 3; spurt++) {
                    long mark = Math.min(next.get() + 1_000, (long) BATCHES * PER_BATCH);
                    setAutoRead(channel.get(), true);
                    await().atMost(Duration.ofSeconds(30)).until(() -> next.get() >= mark || failure.get() != null);
                    setAutoRead(channel.get(), false);
                    assertHeldBack(before);
                }

                // the server and its other clients go on meanwhile
                try (RawClient other = RawClient.connect(fixture.server, RawClient.Kind.TCP, WireContractTest.PROTOBUF)) {
                    assertThat(other.stream("read.all", ReadAllRequest.newBuilder().setMaxCount(10).build().toByteArray())
                        .collectList().block(ServerFixture.TIMEOUT)).hasSize(10);
                }

                setAutoRead(channel.get(), true);
                await().atMost(Duration.ofSeconds(60)).until(() -> next.get() == (long) BATCHES * PER_BATCH || failure.get() != null);
                assertThat(failure.get()).isNull();
            } finally {
                read.dispose();
                stalled.dispose();
            }
        }
    }

    /**
     * A client that sends and does not read: the server stops reading its requests once their answers fill the
     * socket (about 2,400 answers of ~1.5 KB here: the server's send buffer grows to 4 MiB on loopback), instead of
     * queueing an answer for each of the 8,000 requests; reading again, the client gets all of them.
     */
    @Test
    void aClientThatDoesNotReadItsAnswersIsNotReadEither(@TempDir Path dir) throws Exception {
        int requests = requestsBeyondSocketBuffers();
        int appendsPerRequest = 100;
        try (ServerFixture fixture = new ServerFixture(dir)) {
            AtomicReference<Channel> channel = new AtomicReference<>();
            RSocket sender = RSocketConnector.create().dataMimeType(WireContractTest.PROTOBUF).metadataMimeType(RawClient.COMPOSITE)
                .connect(TcpClientTransport.create(TcpClient.create().host(fixture.server.tcpAddress().getHostString())
                    .port(fixture.server.tcpAddress().getPort()).option(ChannelOption.SO_RCVBUF, 8192)
                    .doOnChannelInit((observer, created, address) -> channel.set(created))))
                .block(ServerFixture.TIMEOUT);
            setAutoRead(channel.get(), false);
            AppendBatch.Builder batch = AppendBatch.newBuilder();
            for (int i = 0; i < appendsPerRequest; i++) {
                batch.addAppends(AppendRequest.newBuilder().setStream("s").addEvents(WireContractTest.event("T", "{}")));
            }
            byte[] request = batch.build().toByteArray();
            AtomicLong answered = new AtomicLong();
            AtomicLong written = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int i = 0; i < requests; i++) {
                sender.requestResponse(RawClient.payload(RawClient.route("append.batch"), request))
                    .subscribe(p -> {
                        for (AppendOutcome o : WireContractTest.parse(AppendBatchResult.parser(), RawClient.data(p)).getOutcomesList()) {
                            if (o.hasResult()) {
                                written.incrementAndGet();
                            } else if (!o.getError().getCode().equals("OVERLOADED")) {
                                failure.compareAndSet(null, new AssertionError(o.getError().toString()));
                            }
                        }
                        answered.incrementAndGet();
                    }, failure::set);
            }
            try {
                AtomicLong seen = new AtomicLong(-1);
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> seen.getAndSet(fixture.store.headPosition()) == fixture.store.headPosition());
                assertThat(fixture.store.headPosition()).as("events the server appended while its answers could not leave")
                    .isLessThan((long) requests * appendsPerRequest / 2);

                setAutoRead(channel.get(), true);
                await().atMost(Duration.ofSeconds(60)).until(() -> answered.get() == requests || failure.get() != null);
                assertThat(failure.get()).isNull();
                // a flood read at once may find the writer's queue full: those appends are refused (OVERLOADED), not lost
                await().atMost(ServerFixture.TIMEOUT).until(() -> fixture.store.headPosition() == written.get());
                assertThat(written.get()).isGreaterThan((long) requests * appendsPerRequest / 2);
            } finally {
                sender.dispose();
            }
        }
    }

    private static ClientTransport transport(ReelServer server, RawClient.Kind kind, Consumer<Channel> created) {
        InetSocketAddress tcp = server.tcpAddress();
        InetSocketAddress ws = server.webSocketAddress();
        return kind == RawClient.Kind.TCP
            ? TcpClientTransport.create(TcpClient.create().host(tcp.getHostString()).port(tcp.getPort())
                .doOnChannelInit((observer, channel, address) -> created.accept(channel)))
            : WebsocketClientTransport.create(HttpClient.create().host(ws.getHostString()).port(ws.getPort())
                .doOnChannelInit((observer, channel, address) -> created.accept(channel)), "/rsocket");
    }

    /** On the channel's event loop; reading on again asks for the bytes that wait. */
    private static void setAutoRead(Channel channel, boolean on) throws Exception {
        channel.eventLoop().submit(() -> {
            channel.config().setAutoRead(on);
            if (on) {
                channel.read();
            }
        }).get();
    }

    /**
     * Waits until the server has queued what it will (its memory stops growing: two readings half a second apart
     * within 2 MB; without the gate that is once the log it was asked for is in memory), then checks how much.
     */
    private static void assertHeldBack(long memoryBefore) {
        AtomicLong last = new AtomicLong(Long.MIN_VALUE / 2);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
            .until(() -> Math.abs(last.getAndSet(heapAfterGc()) - last.get()) < (2L << 20));
        assertThat(last.get() - memoryBefore).as("memory the server grew while its reader did not read (log: %d MB)",
            BATCHES * PER_BATCH / 1000).isLessThan(30L << 20);
    }

    /** The heap after a collection, plus what Netty's pooled allocator holds (the server's payloads are direct buffers). */
    private static long heapAfterGc() {
        Runtime runtime = Runtime.getRuntime();
        System.gc();
        PooledByteBufAllocatorMetric netty = PooledByteBufAllocator.DEFAULT.metric();
        return runtime.totalMemory() - runtime.freeMemory() + netty.usedDirectMemory() + netty.usedHeapMemory();
    }

    /**
     * Requests enough that their answers are three times what the kernel may buffer for one socket
     * ({@code tcp_wmem}'s maximum; 4 MiB by default, more on tuned hosts), answers being ~1.5 KB.
     */
    private static int requestsBeyondSocketBuffers() {
        long max = 4L << 20;
        try {
            String[] wmem = Files.readString(Path.of("/proc/sys/net/ipv4/tcp_wmem")).trim().split("\\s+");
            max = Long.parseLong(wmem[2]);
        } catch (IOException | RuntimeException e) {
            // not Linux: keep the default
        }
        return (int) Math.min(40_000, Math.max(8_000, 3 * max / 1_500));
    }
}
