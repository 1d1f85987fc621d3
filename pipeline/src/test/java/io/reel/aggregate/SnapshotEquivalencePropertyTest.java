package io.reel.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.aggregate.CounterAggregate.Add;
import io.reel.aggregate.CounterAggregate.Counter;
import io.reel.examples.tasks.TaskAggregate;
import io.reel.examples.tasks.TaskCommand;
import io.reel.examples.tasks.TaskState;
import io.reel.store.EventStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Whatever the commands, the state a fresh repository loads from snapshots is the state it loads from events
 * alone, and both are what deciding and evolving the same commands in memory gives.
 */
class SnapshotEquivalencePropertyTest {
    private static final String[] TASKS = {"a", "b", "c"};

    record Step<C>(int aggregate, C command) {
    }

    @Property(tries = 20)
    void taskStatesAreTheSameWithAndWithoutSnapshots(@ForAll("taskSteps") List<Step<TaskCommand>> steps,
                                                     @ForAll @IntRange(min = 1, max = 3) int every) throws IOException {
        check(new TaskAggregate(), steps, every);
    }

    @Property(tries = 20)
    void counterStatesAreTheSameWithAndWithoutSnapshots(@ForAll("counterSteps") List<Step<Add>> steps,
                                                        @ForAll @IntRange(min = 1, max = 12) int every) throws IOException {
        check(new CounterAggregate(), steps, every);
    }

    private static <S, C> void check(Aggregate<S, C> aggregate, List<Step<C>> steps, int every) throws IOException {
        Path dir = Files.createTempDirectory("reel-snapshot-property");
        try (EventStore store = TestStores.open(dir, new SimpleMeterRegistry())) {
            Map<String, S> model = new HashMap<>();
            try (Snapshotter snapshotter = Snapshotter.builder(store).add(aggregate).every(every).start()) {
                AggregateRepository<S, C> repository = AggregateRepository.create(store, aggregate);
                for (Step<C> step : steps) {
                    String id = TASKS[step.aggregate()];
                    S before = model.computeIfAbsent(id, aggregate::initial);
                    Decision expected = aggregate.decide(before, step.command());
                    CommandResult<S> result = repository.handle(id, step.command()).block(TestStores.WAIT);
                    assertThat(result instanceof CommandResult.Rejected).isEqualTo(expected.isRejected());
                    S after = before;
                    for (var event : expected.events()) {
                        after = aggregate.evolve(after, event);
                    }
                    model.put(id, after);
                    assertThat(result.state()).isEqualTo(after);
                }
                TestStores.awaitCaughtUp(snapshotter, store);
            }
            AggregateRepository<S, C> fromSnapshots = AggregateRepository.create(store, aggregate);
            AggregateRepository<S, C> fromEvents = AggregateRepository.builder(store, aggregate).readSnapshots(false).build();
            for (String id : TASKS) {
                S expected = model.getOrDefault(id, aggregate.initial(id));
                assertThat(fromEvents.state(id).block(TestStores.WAIT)).isEqualTo(expected);
                assertThat(fromSnapshots.state(id).block(TestStores.WAIT)).isEqualTo(expected);
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Provide
    Arbitrary<List<Step<TaskCommand>>> taskSteps() {
        Arbitrary<String> words = Arbitraries.of("calibrate", "sequence", "", "image", "order");
        Arbitrary<TaskCommand> commands = Arbitraries.oneOf(
            Combinators.combine(Arbitraries.of("dr-ada", "dr-lin"), words, Arbitraries.integers().between(0, 400))
                .as((who, title, day) -> new TaskCommand.ScheduleTask(who, title, LocalDate.ofEpochDay(20_000 + day))),
            Arbitraries.of("bo", "cy").map(TaskCommand.StartTask::new),
            words.map(TaskCommand.CompleteTask::new),
            words.map(TaskCommand.CancelTask::new));
        return Combinators.combine(Arbitraries.integers().between(0, TASKS.length - 1), commands).as(Step::new).list().ofMaxSize(25);
    }

    @Provide
    Arbitrary<List<Step<Add>>> counterSteps() {
        return Combinators.combine(Arbitraries.integers().between(0, TASKS.length - 1),
                Arbitraries.longs().between(-6, 6).map(Add::new))
            .as(Step::new).list().ofMaxSize(80);
    }
}
