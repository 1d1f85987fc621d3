package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.projection.ProjectionStatus.Phase;
import io.reel.store.EventStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProjectionsTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void listsStatusesByNameAndAnswersStateQueries() {
        try (EventStore store = Stores.open(dir, new SimpleMeterRegistry()); Projections projections = Projections.embedded(store)) {
            assertThat(projections.checkpointDirectory()).isEqualTo(dir.resolve("checkpoints").resolve("projections"));
            Stores.appendSpread(store, "Placed", 30, 3);
            projections.start(Fold.projection("z-fold"));
            projections.start(EventTypeCounts.projection());
            await().atMost(WAIT).until(() -> projections.list().stream()
                .allMatch(s -> s.phase() == Phase.RUNNING && s.position() == 30));
            assertThat(projections.list()).extracting(ProjectionStatus::name).containsExactly("event-types", "z-fold");
            assertThat(projections.status("z-fold").lagEvents()).isZero();
            ProjectionState state = projections.state("event-types").block(WAIT);
            assertThat(state.name()).isEqualTo("event-types");
            assertThat(state.position()).isEqualTo(30);

            assertThatThrownBy(() -> projections.state("nope").block(WAIT))
                .hasMessage("NOT_FOUND: no projection named 'nope'; projection.list shows those running: event-types, z-fold");
            assertThatThrownBy(() -> projections.status("nope")).hasMessageStartingWith("NOT_FOUND:");
            assertThatThrownBy(() -> projections.start(Fold.projection("z-fold")))
                .hasMessageStartingWith("INVALID_ARGUMENT: a projection named 'z-fold' is already running");
            assertThat(projections.runner("z-fold")).isPresent();

            projections.stop("z-fold");
            assertThat(projections.list()).extracting(ProjectionStatus::name).containsExactly("event-types");
            assertThat(projections.runner("z-fold")).isEmpty();
        }
        assertThat(Files.exists(dir.resolve("checkpoints").resolve("projections").resolve("z-fold.chk"))).isTrue();
    }

    @Test
    void aDefinitionSaysWhatIsMissing() {
        assertThatThrownBy(() -> Projection.builder(" ", Fold::new)).hasMessageStartingWith("INVALID_ARGUMENT: a projection needs a name");
        assertThatThrownBy(() -> Projection.builder("p", Fold::new).codec(Fold.codec()).build())
            .hasMessageContaining("has no handler");
        assertThatThrownBy(() -> Projection.builder("p", Fold::new).on("A", (f, e) -> f).build())
            .hasMessageContaining("has no state codec");
        assertThatThrownBy(() -> Projection.builder("p", Fold::new).on("A", (f, e) -> f).on("A", (f, e) -> f))
            .hasMessageContaining("already has a handler for A");
        assertThatThrownBy(() -> ProjectionSettings.defaults().window(1)).hasMessageStartingWith("INVALID_ARGUMENT: window is 1");
        assertThatThrownBy(() -> FailurePolicy.retry(-1, Duration.ZERO)).hasMessageStartingWith("INVALID_ARGUMENT:");
        assertThat(Projection.builder("p", Fold::new).onAnyOther((f, e) -> f).codec(Fold.codec()).build().filter().isNone()).isTrue();
    }

    @Test
    void backoffDoublesUpToItsCap() {
        FailurePolicy policy = FailurePolicy.retry(40, Duration.ofMillis(100));
        assertThat(policy.backoff(1)).isEqualTo(Duration.ofMillis(100));
        assertThat(policy.backoff(3)).isEqualTo(Duration.ofMillis(400));
        assertThat(policy.backoff(40)).isEqualTo(Duration.ofSeconds(30));
        assertThat(policy.thenSkip().skips()).isTrue();
        assertThat(policy).hasToString("retry(40, 100 ms) then stop");
    }
}
