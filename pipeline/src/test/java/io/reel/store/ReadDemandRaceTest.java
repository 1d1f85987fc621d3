package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.SignalType;

/**
 * A read's demand may come from any thread, as the server's batching of reads asks from its own worker while the
 * connection's thread is still subscribing: a request made while the read switches from its wait for the index to
 * the records must reach the records. With {@code awaitIndexed(...).thenMany(...)} (a concat) one such request in a
 * few thousand went to the finished wait instead and the read never delivered (the remote read after
 * {@code setStreamMetadata} in ReelClientTest, about one CI run in ten). The race is timing: this sweeps the delay of
 * the other thread's request across the switch, thousands of times; before the fix it lost a request within the
 * first few thousand reads on a 2-core machine, idle or loaded.
 */
@Timeout(120)
class ReadDemandRaceTest {
    private static final int READS = 20_000;
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(15);

    @TempDir
    Path dir;

    @Test
    void aRequestMadeFromAnotherThreadWhileTheReadSubscribesIsNeverLost() throws Exception {
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            TestStores.await(store.append("s", ExpectedRevision.ANY, TestStores.event("E")));
            store.setStreamMetadata("s", StreamMetadata.NONE.withMaxCount(5)).block(TestStores.OP_TIMEOUT);
            assertThat(TestStores.await(store.readStream("s", 0, 0, Direction.FORWARDS))).hasSize(1);

            AtomicReference<Subscription> handoff = new AtomicReference<>();
            AtomicInteger delay = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            Thread requester = new Thread(() -> {
                while (!stop.get()) {
                    Subscription s = handoff.getAndSet(null);
                    if (s == null) {
                        Thread.onSpinWait();
                        continue;
                    }
                    for (int k = delay.get(); k > 0; k--) {
                        Thread.onSpinWait();
                    }
                    s.request(Long.MAX_VALUE);
                }
            }, "read-requester");
            requester.setDaemon(true);
            requester.start();
            long deadline = System.nanoTime() + BUDGET_NANOS;
            try {
                for (int i = 0; i < READS && System.nanoTime() < deadline; i++) {
                    CountDownLatch done = new CountDownLatch(1);
                    AtomicInteger events = new AtomicInteger();
                    delay.set(i % 512);
                    store.readStream("s", 0, 0, Direction.FORWARDS).subscribe(new BaseSubscriber<RecordedEvent>() {
                        @Override
                        protected void hookOnSubscribe(Subscription s) {
                            handoff.set(s); // no request here: the other thread makes it, while this one goes on subscribing
                        }

                        @Override
                        protected void hookOnNext(RecordedEvent value) {
                            events.incrementAndGet();
                        }

                        @Override
                        protected void hookFinally(SignalType type) {
                            done.countDown();
                        }
                    });
                    assertThat(done.await(5, TimeUnit.SECONDS))
                        .as("read %d (request delayed by %d spins) completed: its request reached the records", i, i % 512)
                        .isTrue();
                    assertThat(events).hasValue(1);
                }
            } finally {
                stop.set(true);
                requester.join(5_000);
            }
        }
    }
}
