package io.reel.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.reel.aggregate.AggregateActor.Answered;
import io.reel.aggregate.AggregateActor.Next;
import io.reel.aggregate.AggregateActor.Retry;
import io.reel.aggregate.CounterAggregate.Add;
import io.reel.aggregate.CounterAggregate.Counter;
import io.reel.aggregate.internal.Image;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.WrongExpectedVersionException;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class AggregateActorTest {
    private final CounterAggregate counter = new CounterAggregate();

    private AggregateActor<Counter, Add> actor(int maxEventsPerAppend, int conflictRetries) {
        AggregateActor<Counter, Add> actor = new AggregateActor<>(counter, counter.eventTypes(), maxEventsPerAppend, conflictRetries);
        actor.loaded(new Image<>(counter.initial("1"), -1, -1));
        return actor;
    }

    private static CommandResult<Counter> result(AggregateActor<Counter, Add> actor, int i, long firstRevision, long firstPosition) {
        return AggregateActor.result((Answered<Counter>) actor.verdict(i), "counter-1", firstRevision, firstPosition);
    }

    @Test
    void aRoundDecidesCommandsOnTheEvolvingStateIntoOneAppend() {
        AggregateActor<Counter, Add> actor = actor(100, 3);
        List<Object> commands = List.of(new Add(5), AggregateActor.READ, new Add(-10), new Add(2));
        assertThat(actor.decide(commands, i -> false)).isEqualTo(Next.APPEND);
        assertThat(actor.round()).isEqualTo(4);
        assertThat(actor.events()).hasSize(2);
        assertThat(actor.expected()).isEqualTo(ExpectedRevision.NO_STREAM);

        long firstRevision = actor.appended(new AppendResult(100, 101, 1));
        assertThat(firstRevision).isZero();
        assertThat(actor.image()).isEqualTo(new Image<>(new Counter(7, 2), 1, 101));
        assertThat(result(actor, 0, firstRevision, 100)).isInstanceOfSatisfying(CommandResult.Accepted.class, a -> {
            assertThat(a.revision()).isZero();
            assertThat(a.position()).isEqualTo(100);
            assertThat(a.state()).isEqualTo(new Counter(5, 1));
        });
        assertThat(result(actor, 1, firstRevision, 100)).isEqualTo(
            new CommandResult.Accepted<>("counter-1", List.of(), 0, -1, new Counter(5, 1)));
        assertThat(result(actor, 2, firstRevision, 100)).isInstanceOfSatisfying(CommandResult.Rejected.class, r -> {
            assertThat(r.reason()).contains("below zero");
            assertThat(r.revision()).isZero();
        });
        assertThat(result(actor, 3, firstRevision, 100)).isInstanceOfSatisfying(CommandResult.Accepted.class, a -> {
            assertThat(a.revision()).isEqualTo(1);
            assertThat(a.position()).isEqualTo(101);
            assertThat(a.state()).isEqualTo(new Counter(7, 2));
        });
        actor.endRound();
        assertThat(actor.expected()).isEqualTo(ExpectedRevision.exactly(1));
        assertThat(actor.fresh()).isFalse();
    }

    @Test
    void roundsThatWriteNothingAreConfirmedOrAnsweredAndCancelledCommandsAreSkipped() {
        AggregateActor<Counter, Add> actor = actor(100, 3);
        assertThat(actor.fresh()).isTrue();
        assertThat(actor.decide(List.of(new Add(-1), new Add(1)), i -> i == 1)).isEqualTo(Next.CONFIRM);
        assertThat(actor.verdict(1)).isInstanceOf(AggregateActor.Skipped.class);
        assertThat(actor.unwrittenRevision()).isZero();
        assertThat(actor.decide(List.of(new Add(1)), i -> true)).isEqualTo(Next.ANSWER);
    }

    @Test
    void aDecideThatThrowsFailsItsCommandAloneAndAnEventsLimitEndsTheRound() {
        Aggregate<Counter, Add> throwing = new AggregateRepositoryTest.DelegatingCounter() {
            @Override
            public Decision decide(Counter c, Add command) {
                if (command.amount() == 13) {
                    throw new IllegalStateException("unlucky");
                }
                return super.decide(c, command);
            }
        };
        AggregateActor<Counter, Add> actor = new AggregateActor<>(throwing, counter.eventTypes(), 2, 3);
        actor.loaded(new Image<>(new Counter(0, 0), 4, 40));
        assertThat(actor.decide(List.of(new Add(1), new Add(13), new Add(2), new Add(3)), i -> false)).isEqualTo(Next.APPEND);
        assertThat(actor.round()).as("the fourth would make three events").isEqualTo(3);
        assertThat(actor.events()).hasSize(2);
        assertThat(actor.verdict(1)).isInstanceOfSatisfying(AggregateActor.Failed.class,
            f -> assertThat(f.error()).hasMessage("unlucky"));
        assertThat(actor.verdict(3)).isNull();
        assertThat(actor.expected()).isEqualTo(ExpectedRevision.exactly(4));
    }

    @Test
    void aConflictReloadsUntilTheRetriesRunOutAndAGroupTooLargeGoesOneByOne() {
        AggregateActor<Counter, Add> actor = actor(100, 2);
        actor.decide(List.of(new Add(1), new Add(2)), i -> false);
        WrongExpectedVersionException conflict = new WrongExpectedVersionException("counter-1", ExpectedRevision.NO_STREAM, 3);
        assertThat(actor.appendFailed(conflict)).isEqualTo(Retry.RELOAD);
        assertThat(actor.appendFailed(conflict)).isEqualTo(Retry.RELOAD);
        assertThat(actor.appendFailed(conflict)).isEqualTo(Retry.FAIL);
        assertThat(actor.roundFailed(conflict, 2)).isEqualTo(2);
        assertThat(actor.image()).as("nothing was written").isNotNull();
        assertThat(actor.takeStale()).isTrue();
        assertThat(actor.takeStale()).isFalse();
        actor.endRound();

        actor.decide(List.of(new Add(1), new Add(2)), i -> false);
        assertThat(actor.appendFailed(new ReelException(ErrorCode.TOO_LARGE, "too large"))).isEqualTo(Retry.SOLO);
        assertThat(actor.decide(List.of(new Add(1), new Add(2)), i -> false)).isEqualTo(Next.APPEND);
        assertThat(actor.round()).isEqualTo(1);
        assertThat(actor.appendFailed(new ReelException(ErrorCode.TOO_LARGE, "too large"))).isEqualTo(Retry.FAIL);

        assertThat(actor.roundFailed(new ReelException(ErrorCode.IO_ERROR, "disk"), 2)).isEqualTo(1);
        assertThat(actor.image()).as("maybe written: reload").isNull();
        assertThat(AggregateActor.nothingWritten(ErrorCode.OVERLOADED)).isTrue();
        assertThat(AggregateActor.nothingWritten(ErrorCode.IO_ERROR)).isFalse();
    }

    @Test
    void aRoundThatFailsBeforeItWasDecidedCoversEveryPendingCommand() {
        AggregateActor<Counter, Add> actor = new AggregateActor<>(counter, counter.eventTypes(), 100, 3);
        actor.loading(5);
        assertThat(actor.round()).isEqualTo(5);
        actor.loadDone();
        assertThat(actor.roundFailed(new ReelException(ErrorCode.IO_ERROR, "disk"), 3)).isEqualTo(3);
        assertThat(actor.verdict(0)).isNull();
    }

    /**
     * Folding the decided events equals replaying them: however the commands are grouped into appends, the image
     * after the appends is the initial state evolved by every accepted event in order, and each command gets the same
     * verdict as when the commands run one at a time.
     */
    @Property(tries = 300)
    void foldingDecidedEventsEqualsReplayingThem(@ForAll @Size(max = 40) List<@IntRange(min = -20, max = 20) Integer> amounts,
                                                 @ForAll @IntRange(min = 1, max = 6) int maxEventsPerAppend) {
        List<Object> commands = new ArrayList<>();
        for (int a : amounts) {
            commands.add(a == 0 ? AggregateActor.READ : new Add(a));
        }
        AggregateActor<Counter, Add> grouped = actor(maxEventsPerAppend, 0);
        List<Message> events = new ArrayList<>();
        List<CommandResult<Counter>> groupedResults = run(grouped, commands, events);

        Counter replayed = counter.initial("1");
        for (Message m : events) {
            replayed = counter.evolve(replayed, m);
        }
        assertThat(grouped.image().state()).isEqualTo(replayed);
        assertThat(grouped.image().revision()).isEqualTo(events.size() - 1);

        AggregateActor<Counter, Add> single = actor(1, 0);
        List<CommandResult<Counter>> singleResults = new ArrayList<>();
        for (Object c : commands) {
            singleResults.addAll(run(single, List.of(c), new ArrayList<>()));
        }
        assertThat(groupedResults).isEqualTo(singleResults);
        assertThat(single.image()).isEqualTo(grouped.image());
    }

    /** Runs rounds until every command is answered, as a store would: each append lands right after the last. */
    private static List<CommandResult<Counter>> run(AggregateActor<Counter, Add> actor, List<Object> commands, List<Message> events) {
        List<CommandResult<Counter>> results = new ArrayList<>();
        int from = 0;
        while (from < commands.size()) {
            Next next = actor.decide(commands.subList(from, commands.size()), i -> false);
            long firstRevision;
            long firstPosition;
            if (next == Next.APPEND) {
                Image<Counter> before = actor.image();
                int n = actor.events().size();
                firstRevision = actor.appended(new AppendResult(before.position() + 1, before.position() + n, before.revision() + n));
                firstPosition = before.position() + 1;
            } else {
                firstRevision = actor.unwrittenRevision();
                firstPosition = -1;
            }
            for (int i = 0; i < actor.round(); i++) {
                Answered<Counter> a = (Answered<Counter>) actor.verdict(i);
                results.add(AggregateActor.result(a, "counter-1", firstRevision, firstPosition));
                if (a.events() != null) {
                    events.addAll(a.events());
                }
            }
            from += actor.round();
            actor.endRound();
        }
        return results;
    }
}
