package io.reel.aggregate;

import com.google.protobuf.Message;

/**
 * An event-sourced aggregate: what a command may do given the state, and how events change the state. Its
 * state is never stored as the truth: it is rebuilt from its events (plus a snapshot, to go faster).
 *
 * <p>An aggregate of type {@link #name()} with id {@code id} lives in the stream {@code name + "-" + id}
 * (the task {@code 42} of the aggregate {@code task} in {@code task-42}). Events are protobuf messages, named
 * and parsed by {@link #eventTypes()}.
 *
 * <pre>{@code
 * final class CounterAggregate implements Aggregate<Long, Long> {
 *     public String name() { return "counter"; }
 *     public EventTypes eventTypes() { return EventTypes.builder().add("Added", Int64Value.getDefaultInstance()).build(); }
 *     public Long initial(String id) { return 0L; }
 *     public Decision decide(Long total, Long amount) {
 *         return total + amount < 0 ? Decision.reject("the counter cannot go below zero")
 *             : Decision.accept(Int64Value.of(amount));
 *     }
 *     public Long evolve(Long total, Message event) { return total + ((Int64Value) event).getValue(); }
 * }
 * }</pre>
 *
 * <p>Contracts: {@link #decide} and {@link #evolve} are pure functions of their arguments, cheap and
 * non-blocking (they run on Reel's threads, the writer's included); states are immutable values (a state is
 * shared between the cache, command results and the snapshotter). An aggregate object is used from several
 * threads at once.
 *
 * @param <S> the state, an immutable value
 * @param <C> the commands
 */
public interface Aggregate<S, C> {
    /**
     * The aggregate type: the prefix of its streams ({@code name + "-"}) and of its snapshot directory. Letters,
     * digits, '_' and '.' only (no '-', so that the stream prefixes of two types never overlap).
     */
    String name();

    /** The events this aggregate writes and reads, with the upcasters of their older forms. */
    EventTypes eventTypes();

    /** The state of the aggregate {@code id} before its first event. */
    S initial(String id);

    /** Turns a command into events ({@link Decision#accept}) or a rejection with a reason ({@link Decision#reject}). */
    Decision decide(S state, C command);

    /** The state after {@code event}. */
    S evolve(S state, Message event);

    /**
     * Encodes the state for snapshots; null (the default) means this aggregate is never snapshotted and
     * always rebuilt from all its events.
     */
    default StateCodec<S> stateCodec() {
        return null;
    }
}
