package io.reel.projection;

import com.google.protobuf.Parser;
import io.reel.aggregate.StateCodec;
import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A read model built from the log: a name, an initial state, handlers per event type (and/or one for every
 * other type), and a codec for saving the state with its checkpoint. A definition only: a
 * {@link ProjectionRunner} (started by {@link Projections}) runs it on an {@link io.reel.store.EventSource}.
 *
 * <pre>{@code
 * Projection<Map<String, Long>> scheduledPerInvestigator =
 *     Projection.<Map<String, Long>>builder("scheduled-per-investigator", TreeMap::new)
 *         .on("TaskScheduled", TaskScheduled.parser(), (counts, scheduled, event) -> {
 *             counts.merge(scheduled.getInvestigator(), 1L, Long::sum);
 *             return counts;
 *         })
 *         .codec(StateCodec.json(counts -> counts, json -> {
 *             Map<String, Long> counts = new TreeMap<>();
 *             ((Map<?, ?>) json).forEach((k, v) -> counts.put((String) k, (Long) v));
 *             return counts;
 *         }))
 *         .build();
 * }</pre>
 *
 * <h2>Handlers</h2>
 * A handler gets the current state and one event and returns the state after it: the same instance when it
 * mutates in place, or a new one. Handlers of one projection run one at a time, on the projection's own
 * thread, in position order; they may block (that thread is theirs), at the price of the projection's
 * throughput. A handler that throws must leave the state as it found it (immutable states make this free): the
 * runner then retries the event, skips it or stops, as its {@link FailurePolicy} says.
 *
 * <h2>Delivery: at least once for side effects, exactly once for the state</h2>
 * The state is saved atomically with its checkpoint, so after a crash the runner resumes from the last saved
 * pair and re-applies exactly the events that were applied but not yet saved: the state never counts an event
 * twice. Side effects of a handler (a mail sent, a row written elsewhere) are not part of that pair, so they
 * happen <em>at least once</em>: a handler that has side effects gets the event's
 * {@link RecordedEvent#position() position}, unique and increasing over the log, and uses it to make them
 * idempotent (e.g. store the last position done next to the row it writes, and skip positions at or below it).
 *
 * @param <S> the state type
 */
public final class Projection<S> {
    private final String name;
    private final Supplier<? extends S> initialState;
    private final Map<String, Handler<S>> handlers;
    private final Handler<S> otherwise;
    private final EventFilter filter;
    private final StateCodec<S> codec;

    /**
     * Applies one event to the state.
     *
     * @param <S> the state type
     */
    @FunctionalInterface
    public interface Handler<S> {
        /** The state after {@code event}: {@code state} itself when mutated in place, or a new state; never null. */
        S apply(S state, RecordedEvent event) throws Exception;
    }

    /**
     * Applies one event whose data is a protobuf message, parsed for it.
     *
     * @param <S> the state type
     * @param <M> the message type
     */
    @FunctionalInterface
    public interface MessageHandler<S, M> {
        /** The state after {@code event}, whose data is {@code message}; never null. */
        S apply(S state, M message, RecordedEvent event) throws Exception;
    }

    private Projection(Builder<S> b) {
        this.name = b.name;
        this.initialState = b.initialState;
        this.handlers = Map.copyOf(b.handlers);
        this.otherwise = b.otherwise;
        this.codec = b.codec;
        if (b.filter != null) {
            this.filter = b.filter;
        } else if (otherwise == null) {
            this.filter = EventFilter.builder().eventTypes(b.handlers.keySet()).build();
        } else {
            this.filter = EventFilter.none();
        }
    }

    /**
     * Starts a definition. {@code initialState} is called for every fresh start and every rebuild, so a
     * mutable state is never shared between two runs.
     */
    public static <S> Builder<S> builder(String name, Supplier<? extends S> initialState) {
        return new Builder<>(name, initialState);
    }

    /** The name: unique among the projections of a {@link Projections} registry, and the name of its checkpoint. */
    public String name() {
        return name;
    }

    /** A new initial state. */
    public S initialState() {
        S s = initialState.get();
        if (s == null) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "the initial state of projection '" + name + "' is null");
        }
        return s;
    }

    /**
     * What the runner subscribes to: the filter given to the builder, else the handled event types when there
     * is no catch-all handler, else everything.
     */
    public EventFilter filter() {
        return filter;
    }

    public StateCodec<S> codec() {
        return codec;
    }

    /** The state after {@code event}: its type's handler, else the catch-all, else the state unchanged. */
    S apply(S state, RecordedEvent event) throws Exception {
        Handler<S> h = handlers.get(event.type());
        if (h == null) {
            h = otherwise;
            if (h == null) {
                return state;
            }
        }
        S next = h.apply(state, event);
        if (next == null) {
            throw new NullPointerException("the handler of " + event.type() + " returned a null state; return the state");
        }
        return next;
    }

    @Override
    public String toString() {
        return "Projection{" + name + ", types=" + handlers.keySet() + (otherwise == null ? "" : " + others") + ", filter=" + filter
            + ", codec=" + codec.contentType() + "}";
    }

    /**
     * Builds a {@link Projection}; {@link #build()} fails with {@code INVALID_ARGUMENT} naming what is missing.
     *
     * @param <S> the state type
     */
    public static final class Builder<S> {
        private final String name;
        private final Supplier<? extends S> initialState;
        private final Map<String, Handler<S>> handlers = new LinkedHashMap<>();
        private Handler<S> otherwise;
        private EventFilter filter;
        private StateCodec<S> codec;

        private Builder(String name, Supplier<? extends S> initialState) {
            if (name == null || name.isBlank()) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "a projection needs a name, e.g. 'orders-by-customer'");
            }
            this.name = name;
            this.initialState = Objects.requireNonNull(initialState, "initialState");
        }

        /** Handles events of {@code type}. One handler per type. */
        public Builder<S> on(String type, Handler<S> handler) {
            if (type == null || type.isEmpty()) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "projection '" + name + "': a handler needs an event type");
            }
            Objects.requireNonNull(handler, "handler");
            if (handlers.putIfAbsent(type, handler) != null) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "projection '" + name + "' already has a handler for " + type);
            }
            return this;
        }

        /**
         * Handles events of {@code type} whose data is a protobuf message, parsed with {@code parser} (a parse
         * failure is a handler failure).
         */
        public <M> Builder<S> on(String type, Parser<M> parser, MessageHandler<S, ? super M> handler) {
            Objects.requireNonNull(parser, "parser");
            Objects.requireNonNull(handler, "handler");
            return on(type, (state, event) -> handler.apply(state, parser.parseFrom(event.dataBuffer()), event));
        }

        /** Handles every event whose type has no handler of its own (and so subscribes to every type). */
        public Builder<S> onAnyOther(Handler<S> handler) {
            if (otherwise != null) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "projection '" + name + "' already has a catch-all handler");
            }
            otherwise = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Narrows what the projection subscribes to, e.g. by stream prefix. Without it: the handled types, or
         * everything when there is a catch-all handler. Events that pass the filter but have no handler leave
         * the state as it is.
         */
        public Builder<S> filter(EventFilter eventFilter) {
            this.filter = Objects.requireNonNull(eventFilter, "filter");
            return this;
        }

        /** How the state is saved with the checkpoint and returned to queries over the wire. Required. */
        public Builder<S> codec(StateCodec<S> stateCodec) {
            this.codec = Objects.requireNonNull(stateCodec, "codec");
            return this;
        }

        public Projection<S> build() {
            if (handlers.isEmpty() && otherwise == null) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "projection '" + name
                    + "' has no handler; add on(type, handler) or onAnyOther(handler)");
            }
            if (codec == null) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, "projection '" + name
                    + "' has no state codec; add codec(StateCodec.json(...)) so its state can be saved with its checkpoint");
            }
            return new Projection<>(this);
        }
    }
}
