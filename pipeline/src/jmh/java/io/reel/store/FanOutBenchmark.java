package io.reel.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import reactor.core.Disposable;

/**
 * Subscription fan-out: the time from an append's acknowledgement until every one of N live subscriptions
 * parked at the head has received it (batched durability, so the force is not what is measured).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FanOutBenchmark {
    @Param({"1", "100", "1000"})
    public int subscribers;

    private Path dir;
    private EventStore store;
    private final List<Disposable> subscriptions = new ArrayList<>();
    private volatile Phaser arrivals;
    private final EventData event = EventData.of("Ping", new byte[100]);

    @Setup(Level.Trial)
    public void open() throws Exception {
        dir = Files.createTempDirectory("reel-fanout");
        store = EventStore.open(dir, StoreSettings.builder().durability(Durability.batched(Duration.ofMillis(100))).build());
        for (int i = 0; i < subscribers; i++) {
            subscriptions.add(store.subscribe(SubscribeOptions.fromEnd()).subscribe(m -> {
                if (m instanceof SubscriptionMessage.Event) {
                    arrivals.arrive();
                }
            }));
        }
    }

    @Benchmark
    public void appendAndDeliverToAll() {
        Phaser phaser = new Phaser(subscribers);
        arrivals = phaser;
        store.append("fan-out", ExpectedRevision.ANY, event.withEventId(EventData.newId())).block();
        phaser.awaitAdvance(0);
    }

    @TearDown(Level.Trial)
    public void close() {
        subscriptions.forEach(Disposable::dispose);
        store.close();
        TempDirs.delete(dir);
    }
}
