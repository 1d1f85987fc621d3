package io.reel.aggregate;

import com.google.protobuf.Message;
import io.reel.aggregate.internal.Image;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.WrongExpectedVersionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntPredicate;

/**
 * One aggregate's command loop, as a pure state machine over plain values: its image (state and revision), the
 * round of commands being decided, and what to do with each answer the store gives. It decides a round of commands
 * on the state into the events of one append (or rejections, or reads), evolves the image when the append succeeds,
 * and says what a failure means: reload and decide again after a conflict, split the round, or fail it. No I/O, no
 * threads, no Reactor; {@link AggregateRepository} is the plumbing (queue, ownership, loading, appending, caching).
 *
 * <p>Not thread-safe: one owner at a time, as the repository arranges.
 */
final class AggregateActor<S, C> {
    /** The command of {@link AggregateRepository#state}: answer the state, write nothing. */
    static final Object READ = new Object();
    static final long MAX_BYTES_PER_APPEND = 4L * 1024 * 1024;

    /** What a round needs next, once decided. */
    enum Next {
        /** Append {@link #events()} at {@link #expected()}. */
        APPEND,
        /** Nothing to write, but answers rest on the state: check the log has not moved on, unless just loaded. */
        CONFIRM,
        /** Nothing to write and nothing to confirm (every command was cancelled or failed): answer. */
        ANSWER
    }

    /** What an append failure means for the round. */
    enum Retry {
        /** Another writer won: catch the image up to the conflict's revision and decide the round again. */
        RELOAD,
        /** The grouped append was too large or invalid: decide the same commands again one at a time. */
        SOLO,
        /** Fail the round's commands. */
        FAIL
    }

    /** What was decided for one command of the round. */
    sealed interface Verdict<S> permits Skipped, Failed, Answered {
    }

    /** Cancelled before it was decided: no answer. */
    record Skipped<S>() implements Verdict<S> {
    }

    /** {@code decide} or {@code evolve} threw (or an event could not be encoded): fail the command with it. */
    record Failed<S>(RuntimeException error) implements Verdict<S> {
    }

    /**
     * Answered: accepted with {@code events} (none for a read or a no-op), or rejected with {@code reason}; the events
     * start at index {@code firstEvent} of the round's append; {@code stateAfter} is the state after them.
     */
    record Answered<S>(List<Message> events, int firstEvent, String reason, S stateAfter) implements Verdict<S> {
    }

    private static final Skipped<?> SKIPPED = new Skipped<>();

    private final Aggregate<S, C> aggregate;
    private final EventTypes types;
    private final int maxEventsPerAppend;
    private final int conflictRetries;

    private Image<S> image;
    private final ArrayList<EventData> events = new ArrayList<>();
    private final ArrayList<Verdict<S>> verdicts = new ArrayList<>();
    private int round;
    private int attempts;
    private int solo;
    private boolean fresh;
    private boolean stale;
    private S working;

    AggregateActor(Aggregate<S, C> aggregate, EventTypes types, int maxEventsPerAppend, int conflictRetries) {
        this.aggregate = aggregate;
        this.types = types;
        this.maxEventsPerAppend = maxEventsPerAppend;
        this.conflictRetries = conflictRetries;
    }

    // ---------------------------------------------------------------------------------------------- image

    /** The image, or null when it must be loaded (never loaded, or dropped after a fault). */
    Image<S> image() {
        return image;
    }

    /** A loaded or caught-up image: the next round is decided on it, and needs no confirmation. */
    void loaded(Image<S> latest) {
        image = latest;
        fresh = true;
    }

    /** The image no longer stands for the stream (it was deleted or truncated): the next round loads it again. */
    void forget() {
        image = null;
    }

    /** Whether the image may be behind the log (a conflict failed the last round): catch up before deciding. */
    boolean takeStale() {
        boolean was = stale;
        stale = false;
        return was;
    }

    /** Whether the image was just loaded or caught up, so a round that writes nothing needs no confirmation. */
    boolean fresh() {
        return fresh;
    }

    // ---------------------------------------------------------------------------------------------- round

    /** The commands the round covers (a load in progress covers {@code pending} of them). */
    int round() {
        return round;
    }

    /** A load covers every pending command: a failure fails them all. */
    void loading(int pending) {
        round = pending;
    }

    /** The load finished: the round is decided afresh. */
    void loadDone() {
        round = 0;
    }

    /**
     * Decides the commands of the next round on the image's state, in order, until the append would hold more than
     * the store's events per append or {@value #MAX_BYTES_PER_APPEND} bytes (only one command while the round is
     * being split after a failure). {@code cancelled} says which commands were withdrawn.
     */
    @SuppressWarnings("unchecked")
    Next decide(List<?> commands, IntPredicate cancelled) {
        events.clear();
        verdicts.clear();
        S state = image.state();
        long bytes = 0;
        int limit = solo > 0 ? 1 : commands.size();
        boolean answers = false;
        round = 0;
        for (int i = 0; i < limit; i++) {
            Object command = commands.get(i);
            if (cancelled.test(i)) {
                verdicts.add((Skipped<S>) SKIPPED);
                round++;
                continue;
            }
            if (command == READ) {
                verdicts.add(new Answered<>(null, events.size(), null, state));
                answers = true;
                round++;
                continue;
            }
            Decision d;
            try {
                d = Objects.requireNonNull(aggregate.decide(state, (C) command), "decide returned null");
            } catch (RuntimeException ex) {
                verdicts.add(new Failed<>(ex));
                round++;
                continue;
            }
            if (d.isRejected()) {
                verdicts.add(new Answered<>(null, events.size(), d.reason(), state));
                answers = true;
                round++;
                continue;
            }
            List<Message> produced = d.events();
            if (!events.isEmpty() && (events.size() + produced.size() > maxEventsPerAppend || bytes >= MAX_BYTES_PER_APPEND)) {
                break;
            }
            int mark = events.size();
            S before = state;
            try {
                for (int j = 0; j < produced.size(); j++) {
                    Message m = produced.get(j);
                    EventData data = types.encode(m);
                    events.add(data);
                    bytes += data.data().length;
                    state = Objects.requireNonNull(aggregate.evolve(state, m), "evolve returned null");
                }
            } catch (RuntimeException ex) {
                events.subList(mark, events.size()).clear();
                state = before;
                verdicts.add(new Failed<>(ex));
                round++;
                continue;
            }
            verdicts.add(new Answered<>(produced, mark, null, state));
            answers = true;
            round++;
        }
        working = state;
        if (!events.isEmpty()) {
            return Next.APPEND;
        }
        return answers ? Next.CONFIRM : Next.ANSWER;
    }

    /** The round's events, to append. */
    List<EventData> events() {
        return events;
    }

    /** The revision the round's append expects: the image's. */
    ExpectedRevision expected() {
        long revision = image.revision();
        return revision < 0 ? ExpectedRevision.NO_STREAM : ExpectedRevision.exactly(revision);
    }

    /** What was decided for command {@code i} of the round; null when it was not decided (the round failed first). */
    Verdict<S> verdict(int i) {
        return i < verdicts.size() ? verdicts.get(i) : null;
    }

    /**
     * The round's append succeeded: the state it was decided on becomes the image. Answers the revision of the round's
     * first event, from which {@link #result} counts.
     */
    long appended(AppendResult r) {
        long firstRevision = r.nextExpectedRevision() - events.size() + 1;
        image = new Image<>(working, r.nextExpectedRevision(), r.lastPosition());
        solo = Math.max(0, solo - round);
        return firstRevision;
    }

    /** The revision the round's first event would have: for a round that wrote nothing. */
    long unwrittenRevision() {
        return image.revision() + 1;
    }

    /** The round's append failed with {@code t}: what to do about it. */
    Retry appendFailed(Throwable t) {
        if (t instanceof WrongExpectedVersionException && attempts < conflictRetries) {
            attempts++;
            return Retry.RELOAD;
        }
        if (round > 1 && t instanceof ReelException e && (e.code() == ErrorCode.TOO_LARGE || e.code() == ErrorCode.INVALID_ARGUMENT)) {
            solo = round;
            return Retry.SOLO;
        }
        return Retry.FAIL;
    }

    /**
     * The round fails with {@code t} (covering all {@code pending} commands when none was decided yet). The image is
     * dropped unless {@code t} says nothing was written; after a conflict it is marked stale. Answers how many
     * commands the round covers.
     */
    int roundFailed(Throwable t, int pending) {
        if (round == 0) {
            round = pending;
        }
        if (!(t instanceof ReelException e) || !nothingWritten(e.code())) {
            image = null;
        } else if (e.code() == ErrorCode.WRONG_EXPECTED_VERSION) {
            stale = true;
        }
        solo = Math.max(0, solo - round);
        return round;
    }

    /** The round is answered: the next one starts clean. */
    void endRound() {
        round = 0;
        events.clear();
        verdicts.clear();
        working = null;
        attempts = 0;
        fresh = false;
    }

    /**
     * The result of an answered command whose round's events start at {@code firstRevision} and {@code firstPosition}:
     * its events sit at revisions and positions counted from there by its offset among the round's events.
     */
    static <S> CommandResult<S> result(Answered<S> a, String stream, long firstRevision, long firstPosition) {
        int count = a.events() == null ? 0 : a.events().size();
        long revision = firstRevision + a.firstEvent() + count - 1;
        if (a.reason() != null) {
            return new CommandResult.Rejected<>(stream, a.reason(), revision, a.stateAfter());
        }
        long position = count == 0 ? -1 : firstPosition + a.firstEvent() + count - 1;
        return new CommandResult.Accepted<>(stream, count == 0 ? List.of() : a.events(), revision, position, a.stateAfter());
    }

    /** Whether an append that failed with {@code code} certainly wrote nothing (so the image still holds). */
    static boolean nothingWritten(ErrorCode code) {
        return switch (code) {
            case WRONG_EXPECTED_VERSION, OVERLOADED, TOO_LARGE, INVALID_ARGUMENT, STREAM_DELETED, CLOSED -> true;
            default -> false;
        };
    }
}
