package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.projection.ProjectionStatus.Phase;
import io.reel.store.CheckpointStore;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProjectionRunnerTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final ProjectionSettings FAST = ProjectionSettings.defaults().saveInterval(Duration.ofMillis(50))
        .lagRefreshInterval(Duration.ofMillis(20)).resubscribeBackoff(Duration.ofMillis(10), Duration.ofMillis(100));

    @TempDir
    Path dir;
    SimpleMeterRegistry meters;
    EventStore store;
    Projections projections;

    @BeforeEach
    void open() {
        meters = new SimpleMeterRegistry();
        store = Stores.open(dir.resolve("data"), meters);
        projections = Projections.embedded(store);
    }

    @AfterEach
    void close() {
        projections.close();
        store.close();
    }

    private void awaitCaughtUp(ProjectionRunner<?> runner) {
        await().atMost(WAIT).until(() -> runner.status().phase() == Phase.RUNNING
            && runner.status().position() == store.headPosition());
    }

    private CheckpointStore checkpoints() {
        return CheckpointStore.open(projections.checkpointDirectory());
    }

    @Test
    void catchesUpThenFollowsLiveAppendsAndEqualsTheFoldOverReadAll() {
        Stores.appendSpread(store, "Placed", 500, 7);
        ProjectionRunner<Fold> runner = projections.start(Fold.projection("fold"), FAST);
        awaitCaughtUp(runner);
        assertThat(runner.query(Fold::copy).block()).isEqualTo(Fold.over(store, 500));

        Stores.appendSpread(store, "Paid", 120, 3);
        awaitCaughtUp(runner);
        assertThat(runner.query(Fold::copy).block()).isEqualTo(Fold.over(store, 620));
        ProjectionStatus status = runner.status();
        assertThat(status.error()).isEmpty();
        assertThat(status.lagEvents()).isZero();
        assertThat(status.lagSeconds()).isZero();
        assertThat(status.skippedEvents()).isZero();
    }

    @Test
    void aRestartResumesFromTheSavedCheckpointWithoutReapplying() {
        AtomicInteger calls = new AtomicInteger();
        Projection<Fold> counting = Projection.builder("counting", Fold::new)
            .onAnyOther((f, e) -> {
                calls.incrementAndGet();
                return f.add(e);
            }).codec(Fold.codec()).build();
        Stores.appendSpread(store, "Placed", 300, 4);
        awaitCaughtUp(projections.start(counting, FAST));
        projections.stop("counting");
        assertThat(checkpoints().load("counting")).hasValueSatisfying(cp -> assertThat(cp.position()).isEqualTo(300));

        Stores.appendSpread(store, "Paid", 50, 2);
        ProjectionRunner<Fold> again = projections.start(counting, FAST);
        awaitCaughtUp(again);
        assertThat(calls.get()).isEqualTo(350);
        assertThat(again.query(Fold::copy).block()).isEqualTo(Fold.over(store, 350));
    }

    @Test
    void aCrashReappliesExactlyTheEventsAppliedSinceTheLastSave() {
        Map<Long, Integer> deliveries = new ConcurrentHashMap<>();
        Projection<Fold> recording = Projection.builder("recording", Fold::new)
            .onAnyOther((f, e) -> {
                deliveries.merge(e.position(), 1, Integer::sum);
                return f.add(e);
            }).codec(Fold.codec()).build();
        CheckpointStore checkpoints = checkpoints();
        ProjectionSettings everyHundred = FAST.saveEvery(100).saveInterval(Duration.ofHours(1));
        Stores.appendSpread(store, "Placed", 250, 5);

        ProjectionRunner<Fold> first = new ProjectionRunner<>(recording, store, checkpoints, everyHundred, meters);
        first.start();
        awaitCaughtUp(first);
        // saves happen in the background, one at a time: the last lands at 200 or, when the one at 100 was
        // still being written as 200 went by, at 250
        await().atMost(WAIT).until(() -> checkpoints.load("recording").map(CheckpointStore.Checkpoint::position).orElse(0L) >= 200);
        long saved = checkpoints.load("recording").orElseThrow().position();
        Stores.append(store, "late", "Placed", 30);
        await().atMost(WAIT).until(() -> first.status().position() == 280);
        first.crash();
        assertThat(checkpoints.load("recording")).hasValueSatisfying(cp -> assertThat(cp.position()).isEqualTo(saved));

        ProjectionRunner<Fold> second = new ProjectionRunner<>(recording, store, checkpoints, everyHundred, meters);
        second.start();
        try {
            awaitCaughtUp(second);
            assertThat(second.query(Fold::copy).block()).isEqualTo(Fold.over(store, 280));
            for (long p = 0; p < 280; p++) {
                assertThat(deliveries.get(p)).as("deliveries of position %d", p).isEqualTo(p >= saved ? 2 : 1);
            }
        } finally {
            second.close();
        }
    }

    @Test
    void aFailingHandlerStopsItsProjectionWithItsErrorUntilResumed() {
        AtomicBoolean poisoned = new AtomicBoolean(true);
        Projection<Fold> picky = Projection.builder("picky", Fold::new)
            .on("Fine", (f, e) -> f.add(e))
            .on("Poison", (f, e) -> {
                if (poisoned.get()) {
                    throw new IllegalStateException("cannot digest " + e.stream());
                }
                return f.add(e);
            }).codec(Fold.codec()).build();
        Stores.append(store, "a", "Fine", 10);
        Stores.append(store, "b", "Poison", 1);
        Stores.append(store, "a", "Fine", 5);

        ProjectionRunner<Fold> runner = projections.start(picky, FAST);
        ProjectionStatus status = await().atMost(WAIT).until(runner::status, s -> s.phase() == Phase.FAILED && s.lagEvents() == 6);
        assertThat(status.position()).isEqualTo(10);
        assertThat(status.error()).contains("the Poison handler failed at position 10 (b@0)").contains("cannot digest b");
        assertThat(meters.get("reel.projection.failed").tag("name", "picky").gauge().value()).isEqualTo(1.0);
        assertThat(checkpoints().load("picky")).hasValueSatisfying(cp -> assertThat(cp.position()).isEqualTo(10));

        Stores.append(store, "a", "Fine", 5);
        assertThat(runner.query(f -> f.events).block()).isEqualTo(10);
        assertThat(runner.status().phase()).isEqualTo(Phase.FAILED);
        assertThat(runner.status().position()).isEqualTo(10);

        poisoned.set(false);
        runner.resume().block(WAIT);
        awaitCaughtUp(runner);
        assertThat(runner.status().error()).isEmpty();
        assertThat(runner.query(Fold::copy).block()).isEqualTo(Fold.over(store, 21));
    }

    @Test
    void aRetryingPolicyRetriesWithBackoffAndGoesOnWhenTheHandlerRecovers() {
        AtomicInteger attempts = new AtomicInteger();
        Projection<Fold> flaky = Projection.builder("flaky", Fold::new)
            .onAnyOther((f, e) -> {
                if (e.type().equals("Flaky") && attempts.incrementAndGet() < 3) {
                    throw new IllegalStateException("downstream unavailable");
                }
                return f.add(e);
            }).codec(Fold.codec()).build();
        Stores.append(store, "a", "Fine", 3);
        Stores.append(store, "a", "Flaky", 1);
        Stores.append(store, "a", "Fine", 3);

        ProjectionRunner<Fold> runner = projections.start(flaky, FAST.failurePolicy(FailurePolicy.retry(3, Duration.ofMillis(300))));
        ProjectionStatus retrying = await().atMost(WAIT).pollInterval(Duration.ofMillis(10))
            .until(runner::status, s -> s.phase() == Phase.RETRYING);
        assertThat(retrying.error()).contains("the Flaky handler failed at position 3 (a@3)").containsPattern("retry [12] of 3");
        assertThat(retrying.position()).isEqualTo(3);
        awaitCaughtUp(runner);
        assertThat(attempts.get()).isEqualTo(3);
        assertThat(runner.status().error()).isEmpty();
        assertThat(runner.query(Fold::copy).block()).isEqualTo(Fold.over(store, 7));
    }

    @Test
    void retriesThatRunOutStopTheProjection() {
        Projection<Fold> broken = Projection.builder("broken", Fold::new)
            .on("Broken", (f, e) -> {
                throw new IllegalStateException("always");
            }).codec(Fold.codec()).build();
        Stores.append(store, "a", "Broken", 2);
        ProjectionRunner<Fold> runner = projections.start(broken, FAST.failurePolicy(FailurePolicy.retry(2, Duration.ofMillis(5))));
        await().atMost(WAIT).until(() -> runner.status().phase() == Phase.FAILED);
        assertThat(runner.status().error()).contains("at position 0").contains("(3 attempts)").contains("always");
        assertThat(runner.status().position()).isZero();
    }

    @Test
    void aSkippingPolicySkipsVisiblyAndGoesOn() {
        Projection<Fold> skipping = Projection.builder("skipping", Fold::new)
            .onAnyOther((f, e) -> {
                if (e.type().equals("Poison")) {
                    throw new IllegalArgumentException("bad data");
                }
                return f.add(e);
            }).codec(Fold.codec()).build();
        Stores.append(store, "a", "Fine", 10);
        Stores.append(store, "b", "Poison", 1);
        Stores.append(store, "a", "Fine", 5);

        ProjectionRunner<Fold> runner = projections.start(skipping,
            FAST.failurePolicy(FailurePolicy.retry(1, Duration.ofMillis(5)).thenSkip()));
        awaitCaughtUp(runner);
        ProjectionStatus status = runner.status();
        assertThat(status.skippedEvents()).isEqualTo(1);
        assertThat(status.error()).startsWith("skipped the event at position 10 (2 attempts)").contains("bad data");
        assertThat(runner.query(f -> f.events).block()).isEqualTo(15);
        assertThat(meters.get("reel.projection.skipped").tag("name", "skipping").functionCounter().count()).isEqualTo(1.0);
    }

    @Test
    void aRebuildWhileAppendsContinueGivesTheSameState() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Projection<Fold> counting = Projection.builder("rebuilt", Fold::new)
            .onAnyOther((f, e) -> {
                calls.incrementAndGet();
                return f.add(e);
            }).codec(Fold.codec()).build();
        Stores.appendSpread(store, "Placed", 1000, 10);
        ProjectionRunner<Fold> runner = projections.start(counting, FAST);
        awaitCaughtUp(runner);
        Fold before = runner.query(Fold::copy).block();

        Thread appender = new Thread(() -> {
            for (int i = 0; i < 50; i++) {
                Stores.append(store, "live-" + (i % 3), "Live", 10);
            }
        });
        appender.start();
        runner.rebuild().block(WAIT);
        appender.join();
        awaitCaughtUp(runner);
        assertThat(runner.query(Fold::copy).block()).isEqualTo(Fold.over(store, 1500)).isNotEqualTo(before);
        assertThat(calls.get()).isGreaterThanOrEqualTo(2000);
        assertThat(runner.status().error()).isEmpty();
    }

    @Test
    void aFilteredProjectionKeepsItsCheckpointMovingOverEventsItDoesNotHandle() {
        Projection<Fold> rare = Projection.builder("rare", Fold::new).on("Rare", (f, e) -> f.add(e)).codec(Fold.codec()).build();
        assertThat(rare.filter().eventTypes()).containsExactly("Rare");
        Stores.append(store, "r", "Rare", 1);
        Stores.appendSpread(store, "Common", 5000, 5);

        ProjectionRunner<Fold> runner = projections.start(rare, FAST.checkpointInterval(100));
        awaitCaughtUp(runner);
        assertThat(runner.query(f -> f.events).block()).isEqualTo(1);

        Stores.appendSpread(store, "Common", 1000, 5);
        await().atMost(WAIT).until(() -> runner.status().position() >= 6001 - 100);
        projections.stop("rare");
        assertThat(checkpoints().load("rare")).hasValueSatisfying(cp -> assertThat(cp.position()).isGreaterThanOrEqualTo(5901));
    }

    @Test
    void lagGaugesMoveWhileAHandlerIsSlowAndReturnToZero() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Projection<Fold> slow = Projection.builder("slow", Fold::new)
            .onAnyOther((f, e) -> {
                if (e.type().equals("Slow")) {
                    release.await();
                }
                return f.add(e);
            }).codec(Fold.codec()).build();
        ProjectionRunner<Fold> runner = projections.start(slow, FAST);
        await().atMost(WAIT).until(() -> runner.status().phase() == Phase.RUNNING);
        Stores.append(store, "a", "Slow", 1);
        Stores.append(store, "a", "Fine", 50);

        await().atMost(WAIT).until(() -> gauge("reel.projection.lag.events", "slow") == 51
            && gauge("reel.projection.lag.seconds", "slow") > 0);
        assertThat(gauge("reel.projection.position", "slow")).isZero();
        assertThat(runner.status().lagEvents()).isEqualTo(51);

        release.countDown();
        await().atMost(WAIT).until(() -> gauge("reel.projection.lag.events", "slow") == 0
            && gauge("reel.projection.lag.seconds", "slow") == 0 && gauge("reel.projection.position", "slow") == 51
            // the runner moves its position a moment before it counts the event
            && meters.get("reel.projection.events").tag("name", "slow").functionCounter().count() == 51);
    }

    private double gauge(String name, String projection) {
        return meters.get(name).tag("name", projection).gauge().value();
    }

    @Test
    void aSavedStateThatDoesNotDecodeFailsTheProjectionUntilRebuilt() {
        Stores.appendSpread(store, "Placed", 40, 2);
        checkpoints().save("damaged", 20, "{not json".getBytes(StandardCharsets.UTF_8));
        ProjectionRunner<Fold> runner = projections.start(Fold.projection("damaged"), FAST);
        await().atMost(WAIT).until(() -> runner.status().phase() == Phase.FAILED);
        assertThat(runner.status().error()).contains("saved state at position 20 does not decode").contains("rebuild");
        assertThatThrownBy(() -> runner.resume().block(WAIT)).isInstanceOf(ReelException.class)
            .hasMessageStartingWith("INVALID_ARGUMENT: projection 'damaged' cannot resume");

        runner.rebuild().block(WAIT);
        awaitCaughtUp(runner);
        assertThat(runner.query(Fold::copy).block()).isEqualTo(Fold.over(store, 40));
    }

    @Test
    void anEventTheSubscriptionFilterLetsThroughWithoutAHandlerLeavesTheStateAlone() {
        Projection<Fold> prefixed = Projection.builder("prefixed", Fold::new).on("Placed", (f, e) -> f.add(e))
            .filter(EventFilter.builder().streamPrefix("order-").build()).codec(Fold.codec()).build();
        store.append("order-1", ExpectedRevision.ANY, EventData.json("Placed", "{}"), EventData.json("Noted", "{}")).block();
        store.append("other-1", ExpectedRevision.ANY, EventData.json("Placed", "{}")).block();
        ProjectionRunner<Fold> runner = projections.start(prefixed, FAST);
        awaitCaughtUp(runner);
        assertThat(runner.query(f -> f.perStream).block()).containsExactly(Map.entry("order-1", 1L));
    }

    @Test
    void queriesAndCommandsOnAClosedRunnerFailWithClosed() {
        ProjectionRunner<Fold> runner = projections.start(Fold.projection("short-lived"), FAST);
        projections.stop("short-lived");
        assertThat(runner.status().phase()).isEqualTo(Phase.STOPPED);
        assertThatThrownBy(() -> runner.query(f -> f.events).block(WAIT)).isInstanceOf(ReelException.class)
            .satisfies(e -> assertThat(((ReelException) e).code()).isEqualTo(ErrorCode.CLOSED));
        assertThatThrownBy(() -> runner.rebuild().block(WAIT)).hasMessageStartingWith("CLOSED:");
    }
}
