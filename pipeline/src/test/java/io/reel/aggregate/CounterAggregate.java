package io.reel.aggregate;

import com.google.protobuf.Int64Value;
import com.google.protobuf.Message;
import java.nio.ByteBuffer;

/**
 * A counter that cannot go below zero: the smallest aggregate with an invariant, with streams as long as one
 * likes. Many tests run on it. Its one event,
 * {@code Added}, is an {@code Int64Value}.
 */
final class CounterAggregate implements Aggregate<CounterAggregate.Counter, CounterAggregate.Add> {
    static final String NAME = "counter";

    private static final EventTypes EVENTS = EventTypes.builder().add("Added", Int64Value.getDefaultInstance()).build();

    /** Adds {@code amount} (negative to take away). */
    record Add(long amount) {
    }

    /** The total and how many events made it. */
    record Counter(long total, long additions) {
    }

    private final StateCodec<Counter> codec;

    CounterAggregate() {
        this(1);
    }

    /** A counter whose snapshots are written (and read) at {@code schemaVersion}. */
    CounterAggregate(int schemaVersion) {
        this.codec = StateCodec.of(schemaVersion,
            c -> ByteBuffer.allocate(16).putLong(c.total()).putLong(c.additions()).array(),
            b -> {
                if (b.length != 16) {
                    throw new IllegalArgumentException("a counter state is 16 bytes, not " + b.length);
                }
                ByteBuffer buf = ByteBuffer.wrap(b);
                return new Counter(buf.getLong(), buf.getLong());
            });
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public EventTypes eventTypes() {
        return EVENTS;
    }

    @Override
    public Counter initial(String id) {
        return new Counter(0, 0);
    }

    @Override
    public Decision decide(Counter counter, Add command) {
        if (counter.total() + command.amount() < 0) {
            return Decision.reject("the counter is at " + counter.total() + "; adding " + command.amount() + " would take it below zero");
        }
        return Decision.accept(Int64Value.of(command.amount()));
    }

    @Override
    public Counter evolve(Counter counter, Message event) {
        return new Counter(counter.total() + ((Int64Value) event).getValue(), counter.additions() + 1);
    }

    @Override
    public StateCodec<Counter> stateCodec() {
        return codec;
    }
}
