package io.reel.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import com.google.protobuf.Message;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.aggregate.CounterAggregate.Add;
import io.reel.aggregate.CounterAggregate.Counter;
import io.reel.aggregate.internal.Image;
import io.reel.examples.tasks.TaskAggregate;
import io.reel.examples.tasks.TaskCommand.CompleteTask;
import io.reel.examples.tasks.TaskCommand.ScheduleTask;
import io.reel.examples.tasks.TaskCommand.StartTask;
import io.reel.examples.tasks.TaskCommand;
import io.reel.examples.tasks.TaskState;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.WrongExpectedVersionException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** The repository on a real store: serialisation, parallelism, conflicts, the cache and failures. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AggregateRepositoryTest {
    @TempDir
    Path dir;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    EventStore store;

    @BeforeEach
    void open() {
        store = TestStores.open(dir, registry);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private AggregateRepository<Counter, Add> counters() {
        return AggregateRepository.create(store, new CounterAggregate());
    }

    @Test
    void concurrentCommandsToOneAggregateAreSerialisedAndNoneIsLost() {
        AggregateRepository<Counter, Add> counters = counters();
        int commands = 800;
        List<CommandResult<Counter>> results = Flux.range(0, commands)
            .parallel(8).runOn(Schedulers.parallel())
            .flatMap(i -> counters.handle("hot", new Add(1)))
            .sequential().collectList().block(TestStores.WAIT);

        assertThat(results).hasSize(commands).allMatch(r -> r instanceof CommandResult.Accepted);
        assertThat(results).extracting(CommandResult::revision).doesNotHaveDuplicates()
            .containsExactlyInAnyOrderElementsOf(range(commands));
        for (CommandResult<Counter> r : results) {
            assertThat(r.state().total()).as("the state a command saw is the one its revision made").isEqualTo(r.revision() + 1);
        }
        assertThat(TestStores.events(store, "counter-hot")).hasSize(commands);
        assertThat(counters.state("hot").block(TestStores.WAIT)).isEqualTo(new Counter(commands, commands));
    }

    @Test
    void aCachedAggregateWhoseStreamIsSoftDeletedStartsAgainFromItsInitialState() {
        AggregateRepository<Counter, Add> counters = counters();
        for (int i = 0; i < 5; i++) {
            counters.handle("gone", new Add(2)).block(TestStores.WAIT);
        }
        assertThat(counters.state("gone").block(TestStores.WAIT)).isEqualTo(new Counter(10, 5));
        store.deleteStream("counter-gone", io.reel.store.ExpectedRevision.ANY, false).block(TestStores.WAIT);
        // the cached image is of the deleted incarnation: deciding on it would carry the old state into the new one
        assertThat(counters.state("gone").block(TestStores.WAIT)).isEqualTo(new Counter(0, 0));
        CommandResult<Counter> added = counters.handle("gone", new Add(1)).block(TestStores.WAIT);
        assertThat(added.state()).isEqualTo(new Counter(1, 1));
        assertThat(added.revision()).as("the stream goes on from the next revision").isEqualTo(5);
        assertThat(AggregateRepository.create(store, new CounterAggregate()).state("gone").block(TestStores.WAIT))
            .as("a repository that loads it afresh agrees").isEqualTo(new Counter(1, 1));
        // another metadata change that keeps the truncation point: the image is checked and kept
        io.reel.store.StreamMetadata kept = store.streamMetadata("counter-gone").block(TestStores.WAIT);
        store.setStreamMetadata("counter-gone", kept.withMaxCount(1000)).block(TestStores.WAIT);
        assertThat(counters.handle("gone", new Add(1)).block(TestStores.WAIT).state()).isEqualTo(new Counter(2, 2));
        // one that moves it back shows the old events again, as every read of the stream does
        store.setStreamMetadata("counter-gone", kept.withTruncateBefore(0)).block(TestStores.WAIT);
        assertThat(counters.state("gone").block(TestStores.WAIT)).isEqualTo(new Counter(12, 7));
    }

    @Test
    void oneAggregateHoldsABoundedQueueAndRefusesTheRestWithOverloaded() {
        AggregateRepository<Counter, Add> counters = counters();
        int commands = AggregateRepository.MAX_QUEUED_PER_AGGREGATE * 2;
        List<reactor.core.publisher.Signal<CommandResult<Counter>>> signals = Flux.range(0, commands)
            .flatMap(i -> counters.handle("hot", new Add(1)).materialize(), commands)
            .filter(sig -> !sig.isOnComplete())
            .collectList().block(TestStores.WAIT);
        long accepted = signals.stream().filter(sig -> sig.isOnNext() && sig.get() instanceof CommandResult.Accepted).count();
        long overloaded = signals.stream().filter(sig -> sig.isOnError() && sig.getThrowable() instanceof ReelException e
            && e.code() == ErrorCode.OVERLOADED).count();
        assertThat(overloaded).as("commands refused at once").isPositive();
        assertThat(accepted + overloaded).isEqualTo(commands);
        assertThat(counters.state("hot").block(TestStores.WAIT).total()).isEqualTo(accepted);
    }

    @Test
    void rejectionsUnderConcurrencyFollowTheSerialOrder() {
        AggregateRepository<Counter, Add> counters = counters();
        List<CommandResult<Counter>> results = Flux.range(0, 600)
            .parallel(6).runOn(Schedulers.parallel())
            .flatMap(i -> counters.handle("tight", new Add(i % 3 == 0 ? 2 : -1)))
            .sequential().collectList().block(TestStores.WAIT);

        long acceptedSum = 0;
        for (CommandResult<Counter> r : results) {
            if (r instanceof CommandResult.Accepted<Counter> a) {
                acceptedSum += ((Int64Value) a.events().get(0)).getValue();
            } else {
                assertThat(((CommandResult.Rejected<Counter>) r).reason()).contains("below zero");
            }
        }
        List<RecordedEvent> events = TestStores.events(store, "counter-tight");
        long total = 0;
        for (RecordedEvent e : events) {
            total += parse(e);
            assertThat(total).as("the invariant holds after every event").isGreaterThanOrEqualTo(0);
        }
        assertThat(total).isEqualTo(acceptedSum);
        assertThat(results.stream().filter(r -> r instanceof CommandResult.Accepted).count()).isEqualTo(events.size());
        assertThat(counters.state("tight").block(TestStores.WAIT).total()).isEqualTo(total);
    }

    @Test
    void differentAggregatesRunInParallelEachInOrder() {
        AggregateRepository<Counter, Add> counters = counters();
        int aggregates = 100;
        int each = 20;
        Map<String, List<Long>> revisions = new ConcurrentHashMap<>();
        Flux.range(0, aggregates * each)
            .parallel(4).runOn(Schedulers.parallel())
            .flatMap(i -> {
                String id = "c" + (i % aggregates);
                return counters.handle(id, new Add(1)).doOnNext(r -> revisions.computeIfAbsent(id, k -> new ArrayList<>()).add(r.revision()));
            })
            .sequential().blockLast(TestStores.WAIT);

        assertThat(revisions).hasSize(aggregates);
        for (int a = 0; a < aggregates; a++) {
            assertThat(revisions.get("c" + a)).hasSize(each).containsExactlyInAnyOrderElementsOf(range(each));
            assertThat(TestStores.events(store, "counter-c" + a)).hasSize(each);
        }
        assertThat(store.headPosition()).isEqualTo((long) aggregates * each);
    }

    @Test
    void aSecondRepositoryOnTheSameStreamCausesAConflictThatIsRetried() {
        AggregateRepository<Counter, Add> a = counters();
        AggregateRepository<Counter, Add> b = counters();
        assertThat(b.state("shared").block(TestStores.WAIT)).isEqualTo(new Counter(0, 0));
        assertThat(a.handle("shared", new Add(1)).block(TestStores.WAIT).revision()).isZero();

        CommandResult<Counter> fromB = b.handle("shared", new Add(10)).block(TestStores.WAIT);
        assertThat(fromB).isInstanceOf(CommandResult.Accepted.class);
        assertThat(fromB.revision()).isEqualTo(1);
        assertThat(fromB.state()).isEqualTo(new Counter(11, 2));
        assertThat(TestStores.counter(registry, "reel.aggregate.conflicts", "aggregate", "counter")).isEqualTo(1);
        assertThat(a.handle("shared", new Add(100)).block(TestStores.WAIT).state()).isEqualTo(new Counter(111, 3));
    }

    @Test
    void twoRepositoriesHammeringOneStreamLoseNothing() {
        AggregateRepository<Counter, Add> a = AggregateRepository.builder(store, new CounterAggregate()).conflictRetries(1000).build();
        AggregateRepository<Counter, Add> b = AggregateRepository.builder(store, new CounterAggregate()).conflictRetries(1000).build();
        int each = 150;
        List<CommandResult<Counter>> results = Flux.merge(
                Flux.range(0, each).flatMap(i -> a.handle("contended", new Add(1)).subscribeOn(Schedulers.parallel()), 8),
                Flux.range(0, each).flatMap(i -> b.handle("contended", new Add(1)).subscribeOn(Schedulers.parallel()), 8))
            .collectList().block(TestStores.WAIT);

        assertThat(results).hasSize(2 * each);
        assertThat(results).extracting(CommandResult::revision).containsExactlyInAnyOrderElementsOf(range(2 * each));
        assertThat(TestStores.events(store, "counter-contended")).hasSize(2 * each);
        assertThat(a.state("contended").block(TestStores.WAIT)).isEqualTo(new Counter(2 * each, 2 * each));
        assertThat(b.state("contended").block(TestStores.WAIT)).isEqualTo(new Counter(2 * each, 2 * each));
    }

    @Test
    void aConflictIsReportedOnceTheRetriesRunOut() {
        AggregateRepository<Counter, Add> a = counters();
        AggregateRepository<Counter, Add> b = AggregateRepository.builder(store, new CounterAggregate()).conflictRetries(0).build();
        b.state("x").block(TestStores.WAIT);
        a.handle("x", new Add(1)).block(TestStores.WAIT);
        long head = store.headPosition();
        StepVerifier.create(b.handle("x", new Add(1)))
            .expectErrorSatisfies(e -> {
                assertThat(e).isInstanceOf(WrongExpectedVersionException.class);
                assertThat(((ReelException) e).code()).isEqualTo(ErrorCode.WRONG_EXPECTED_VERSION);
            })
            .verify(TestStores.WAIT);
        assertThat(store.headPosition()).isEqualTo(head);
        assertThat(b.handle("x", new Add(1)).block(TestStores.WAIT).revision()).as("the next command catches up").isEqualTo(1);
    }

    @Test
    void aRejectionIsCheckedAgainstTheLogNotAStaleCache() {
        AggregateRepository<TaskState, TaskCommand> a = AggregateRepository.create(store, new TaskAggregate());
        AggregateRepository<TaskState, TaskCommand> b = AggregateRepository.create(store, new TaskAggregate());
        a.handle("9", new ScheduleTask("dr-ada", "Image the slides", LocalDate.of(2026, 1, 5))).block(TestStores.WAIT);
        assertThat(b.state("9").block(TestStores.WAIT).status()).isEqualTo(TaskState.Status.SCHEDULED);
        a.handle("9", new StartTask("bo")).block(TestStores.WAIT);

        CommandResult<TaskState> completed = b.handle("9", new CompleteTask("imaged")).block(TestStores.WAIT);
        assertThat(completed).as("b's cache says not started; the log says started").isInstanceOf(CommandResult.Accepted.class);
        assertThat(completed.revision()).isEqualTo(2);
    }

    @Test
    void theCacheIsBoundedAndEvictedAggregatesAreRebuilt() {
        AggregateRepository<Counter, Add> counters = AggregateRepository.builder(store, new CounterAggregate()).cacheSize(8).build();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 40; i++) {
                CommandResult<Counter> r = counters.handle("k" + i, new Add(1)).block(TestStores.WAIT);
                assertThat(r.revision()).isEqualTo(round);
                assertThat(r.state().total()).isEqualTo(round + 1);
            }
            assertThat(counters.cachedAggregates()).isLessThanOrEqualTo(8);
        }
    }

    @Test
    void evictionsUnderConcurrencyLoseNoCommand() {
        AggregateRepository<Counter, Add> counters = AggregateRepository.builder(store, new CounterAggregate()).cacheSize(4).build();
        int aggregates = 30;
        int commands = 1500;
        Flux.range(0, commands)
            .parallel(6).runOn(Schedulers.parallel())
            .flatMap(i -> counters.handle("v" + (i * 7 % aggregates), new Add(1)))
            .sequential().blockLast(TestStores.WAIT);
        long total = 0;
        for (int a = 0; a < aggregates; a++) {
            Counter c = counters.state("v" + a).block(TestStores.WAIT);
            assertThat(c.additions()).isEqualTo(TestStores.events(store, "counter-v" + a).size());
            total += c.total();
        }
        assertThat(total).isEqualTo(commands);
        assertThat(counters.cachedAggregates()).isLessThanOrEqualTo(4);
    }

    @Test
    void aThrowingDecideFailsOnlyItsCommand() {
        Aggregate<Counter, Add> picky = new DelegatingCounter() {
            @Override
            public Decision decide(Counter counter, Add command) {
                if (command.amount() == 13) {
                    throw new IllegalArgumentException("13 is unlucky");
                }
                return super.decide(counter, command);
            }
        };
        AggregateRepository<Counter, Add> counters = AggregateRepository.create(store, picky);
        List<Mono<CommandResult<Counter>>> commands = List.of(counters.handle("p", new Add(1)), counters.handle("p", new Add(13)),
            counters.handle("p", new Add(2)));
        List<Object> outcomes = Flux.mergeSequential(commands.stream()
                .map(m -> m.map(r -> (Object) r.state().total()).onErrorResume(e -> Mono.just(e.getMessage()))).collect(Collectors.toList()))
            .collectList().block(TestStores.WAIT);
        assertThat(outcomes).contains("13 is unlucky");
        assertThat(counters.state("p").block(TestStores.WAIT).total()).isEqualTo(3);
        assertThat(TestStores.events(store, "counter-p")).hasSize(2);
    }

    @Test
    void anUnknownEventTypeInTheStreamFailsWithNotFound() {
        store.append("counter-odd", ExpectedRevision.ANY, EventData.json("Renamed", "{}")).block(TestStores.WAIT);
        StepVerifier.create(counters().handle("odd", new Add(1)))
            .expectErrorSatisfies(e -> {
                assertThat(((ReelException) e).code()).isEqualTo(ErrorCode.NOT_FOUND);
                assertThat(e.getMessage()).contains("'Renamed'").contains("counter-odd").contains("revision 0");
            })
            .verify(TestStores.WAIT);
    }

    @Test
    void badArgumentsFailWithInvalidArgument() {
        AggregateRepository<Counter, Add> counters = counters();
        StepVerifier.create(counters.handle("", new Add(1))).expectErrorSatisfies(e ->
            assertThat(((ReelException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT)).verify(TestStores.WAIT);
        StepVerifier.create(counters.handle("a", null)).expectErrorSatisfies(e ->
            assertThat(((ReelException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT)).verify(TestStores.WAIT);
        assertThatThrownBy(() -> AggregateRepository.create(store, new DelegatingCounter() {
            @Override
            public String name() {
                return "bad-name";
            }
        })).isInstanceOf(ReelException.class).hasMessageStartingWith("INVALID_ARGUMENT: aggregate name 'bad-name'");
    }

    @Test
    void aCommandCancelledBeforeItIsDecidedIsWithdrawn() {
        AggregateRepository<Counter, Add> counters = counters();
        counters.handle("w", new Add(1)).block(TestStores.WAIT);
        StepVerifier.create(counters.handle("w", new Add(5)), 0).thenCancel().verify(TestStores.WAIT);
        assertThat(counters.state("w").block(TestStores.WAIT).total()).isIn(1L, 6L);
        assertThat(counters.handle("w", new Add(1)).block(TestStores.WAIT)).isInstanceOf(CommandResult.Accepted.class);
    }

    static long parse(RecordedEvent e) {
        try {
            return Int64Value.parseFrom(e.dataBuffer()).getValue();
        } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
            throw new AssertionError(ex);
        }
    }

    static List<Long> range(long n) {
        List<Long> list = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            list.add(i);
        }
        return list;
    }

    /** A counter to override one method of. */
    static class DelegatingCounter implements Aggregate<Counter, Add> {
        private final CounterAggregate counter = new CounterAggregate();

        @Override
        public String name() {
            return counter.name();
        }

        @Override
        public EventTypes eventTypes() {
            return counter.eventTypes();
        }

        @Override
        public Counter initial(String id) {
            return counter.initial(id);
        }

        @Override
        public Decision decide(Counter state, Add command) {
            return counter.decide(state, command);
        }

        @Override
        public Counter evolve(Counter state, Message event) {
            return counter.evolve(state, event);
        }

        @Override
        public StateCodec<Counter> stateCodec() {
            return counter.stateCodec();
        }
    }
}
