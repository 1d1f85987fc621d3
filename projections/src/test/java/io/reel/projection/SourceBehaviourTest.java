package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.projection.ProjectionStatus.Phase;
import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.EventStore;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The runner against a source that misbehaves the way a remote one can: a subscription that breaks off, a
 * source that refuses. The source is the real store seen through a wrapper that injects the fault.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SourceBehaviourTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final ProjectionSettings FAST = ProjectionSettings.defaults().saveInterval(Duration.ofMillis(50))
        .lagRefreshInterval(Duration.ofMillis(20)).resubscribeBackoff(Duration.ofMillis(10), Duration.ofMillis(100));

    @TempDir
    Path dir;
    SimpleMeterRegistry meters;
    EventStore store;

    @BeforeEach
    void open() {
        meters = new SimpleMeterRegistry();
        store = Stores.open(dir.resolve("data"), meters);
    }

    @AfterEach
    void close() {
        store.close();
    }

    /** The store, with each subscription passed through {@code wrap} (given the options and the call number). */
    static final class WrappedSource implements EventSource {
        final EventSource delegate;
        final List<SubscribeOptions> subscriptions = new CopyOnWriteArrayList<>();
        final Wrap wrap;

        interface Wrap {
            Flux<SubscriptionMessage> apply(Flux<SubscriptionMessage> messages, int call);
        }

        WrappedSource(EventSource delegate, Wrap wrap) {
            this.delegate = delegate;
            this.wrap = wrap;
        }

        @Override
        public Flux<SubscriptionMessage> subscribe(SubscribeOptions options) {
            subscriptions.add(options);
            return wrap.apply(delegate.subscribe(options), subscriptions.size());
        }

        @Override
        public Flux<RecordedEvent> readAll(long fromPosition, long maxCount, Direction direction, EventFilter filter) {
            return delegate.readAll(fromPosition, maxCount, direction, filter);
        }

        @Override
        public Flux<RecordedEvent> readStream(String stream, long fromRevision, long maxCount, Direction direction) {
            return delegate.readStream(stream, fromRevision, maxCount, direction);
        }

        @Override
        public Mono<Long> head() {
            return delegate.head();
        }

        @Override
        public Mono<Void> checkpoint(String name, long nextPosition) {
            return delegate.checkpoint(name, nextPosition);
        }
    }

    private Projections projectionsOn(EventSource source) {
        return Projections.create(source, dir.resolve("checkpoints"), meters);
    }

    @Test
    void aBrokenSubscriptionIsResubscribedFromTheProjectionsPositionWithoutLossOrDuplicates() {
        Stores.appendSpread(store, "Placed", 1000, 4);
        WrappedSource source = new WrappedSource(store, (messages, call) -> call <= 2
            ? messages.take(300).concatWith(Flux.error(new ReelException(ErrorCode.IO_ERROR, "connection lost")))
            : messages);
        try (Projections projections = projectionsOn(source)) {
            ProjectionRunner<Fold> runner = projections.start(Fold.projection("resilient"), FAST);
            await().atMost(WAIT).until(() -> runner.status().phase() == Phase.RUNNING && runner.status().position() == 1000);
            assertThat(runner.query(Fold::copy).block()).isEqualTo(Fold.over(store, 1000));
            assertThat(runner.status().error()).isEmpty();
            assertThat(source.subscriptions).extracting(SubscribeOptions::fromPosition).containsExactly(0L, 300L, 600L);
        }
    }

    @Test
    void whileTheSourceIsDownTheStatusSaysSoAndTheProjectionComesBackWhenItReturns() {
        Stores.appendSpread(store, "Placed", 100, 2);
        AtomicInteger downFor = new AtomicInteger(Integer.MAX_VALUE);
        WrappedSource source = new WrappedSource(store, (messages, call) -> call > 1 && call <= downFor.get()
            ? Flux.error(new ReelException(ErrorCode.CLOSED, "the server is restarting"))
            : call == 1 ? messages.take(50).concatWith(Flux.error(new IllegalStateException("connection reset"))) : messages);
        try (Projections projections = projectionsOn(source)) {
            ProjectionRunner<Fold> runner = projections.start(Fold.projection("patient"), FAST);
            ProjectionStatus down = await().atMost(WAIT)
                .until(runner::status, s -> s.error().contains("the server is restarting") && s.lagEvents() == 50);
            assertThat(down.phase()).isEqualTo(Phase.CATCHING_UP);
            assertThat(down.error()).contains("resubscribing from position 50");
            assertThat(down.lagEvents()).isEqualTo(50);

            downFor.set(0);
            await().atMost(WAIT).until(() -> runner.status().phase() == Phase.RUNNING && runner.status().position() == 100);
            assertThat(runner.status().error()).isEmpty();
            assertThat(runner.query(Fold::copy).block()).isEqualTo(Fold.over(store, 100));
        }
    }

    @Test
    void aSourceThatRefusesTheSubscriptionStopsTheProjection() {
        WrappedSource source = new WrappedSource(store,
            (messages, call) -> Flux.error(new ReelException(ErrorCode.UNAUTHORIZED, "the token cannot read $all")));
        try (Projections projections = projectionsOn(source)) {
            ProjectionRunner<Fold> runner = projections.start(Fold.projection("refused"), FAST);
            await().atMost(WAIT).until(() -> runner.status().phase() == Phase.FAILED);
            assertThat(runner.status().error()).isEqualTo("the source refused the subscription: UNAUTHORIZED: the token cannot read $all");
            assertThat(source.subscriptions).hasSize(1);
        }
    }

    @Test
    void theRunnerNeverHoldsMoreThanItsWindowAndRequestsAsItApplies() {
        int window = 16;
        Stores.appendSpread(store, "Placed", 3000, 3);
        AtomicLong requested = new AtomicLong();
        AtomicLong delivered = new AtomicLong();
        AtomicLong applied = new AtomicLong();
        AtomicLong worstAhead = new AtomicLong();
        AtomicLong worstUnbacked = new AtomicLong(Long.MIN_VALUE);
        Function<Flux<SubscriptionMessage>, Flux<SubscriptionMessage>> counting = messages -> messages
            .doOnNext(m -> {
                long ahead = delivered.incrementAndGet() - applied.get();
                worstAhead.accumulateAndGet(ahead, Math::max);
            })
            .doOnRequest(n -> {
                long total = requested.addAndGet(n);
                worstUnbacked.accumulateAndGet(total - applied.get(), Math::max);
            });
        WrappedSource source = new WrappedSource(store, (messages, call) -> counting.apply(messages));
        Projection<Fold> slowish = Projection.builder("slowish", Fold::new)
            .onAnyOther((f, e) -> {
                if (e.position() % 500 == 0) {
                    Thread.sleep(5);
                }
                applied.incrementAndGet();
                return f.add(e);
            }).codec(Fold.codec()).build();
        try (Projections projections = projectionsOn(source)) {
            ProjectionRunner<Fold> runner = projections.start(slowish, FAST.window(window));
            await().atMost(WAIT).until(() -> runner.status().phase() == Phase.RUNNING && runner.status().position() == 3000);
            assertThat(runner.query(Fold::copy).block()).isEqualTo(Fold.over(store, 3000));
        }
        // one CaughtUp message besides the 3000 events
        assertThat(worstAhead.get()).isBetween(1L, (long) window + 1);
        assertThat(worstUnbacked.get()).isLessThanOrEqualTo(window + 1);
        assertThat(requested.get()).isLessThanOrEqualTo(3001 + window);
    }
}
