package io.reel.projection;

import io.reel.aggregate.StateCodec;
import io.reel.store.RecordedEvent;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The built-in {@value #NAME} projection and its state: how many events of each type the whole log holds
 * (every record of {@code $all}, Reel's own {@code $metadata} records included). The server runs it as a live
 * example and a health check of the projection runtime.
 *
 * <p>Its state, as {@code projection.state} returns it ({@code application/json}), is exactly
 * <pre>{"counts": {"&lt;type&gt;": n, …}}</pre>
 * with types sorted as {@link String#compareTo} sorts them, {@code ", "} and {@code ": "} as separators and no other whitespace, e.g.
 * {@code {"counts": {"TaskScheduled": 3, "TaskStarted": 1}}}; {@code {"counts": {}}} for an empty log.
 *
 * <p>Mutated only by its projection, on the projection's thread: read it through
 * {@link ProjectionRunner#query}.
 */
public final class EventTypeCounts {
    /** The projection's name. */
    public static final String NAME = "event-types";

    private static final Projection<EventTypeCounts> PROJECTION = Projection.builder(NAME, EventTypeCounts::new)
        .onAnyOther(EventTypeCounts::add)
        .codec(StateCodec.json(EventTypeCounts::toJson, EventTypeCounts::fromJson))
        .build();

    private final Map<String, long[]> counts = new HashMap<>();
    private long total;

    private EventTypeCounts() {
    }

    /** The {@value #NAME} projection. */
    public static Projection<EventTypeCounts> projection() {
        return PROJECTION;
    }

    /** Events of {@code type} (0 for a type never seen). */
    public long count(String type) {
        long[] n = counts.get(type);
        return n == null ? 0 : n[0];
    }

    /** Events of every type seen, by type. */
    public SortedMap<String, Long> counts() {
        SortedMap<String, Long> copy = new TreeMap<>();
        counts.forEach((type, n) -> copy.put(type, n[0]));
        return copy;
    }

    /** Events counted over all types. */
    public long total() {
        return total;
    }

    private static EventTypeCounts add(EventTypeCounts state, RecordedEvent event) {
        long[] n = state.counts.get(event.type());
        if (n == null) {
            n = new long[1];
            state.counts.put(event.type(), n);
        }
        n[0]++;
        state.total++;
        return state;
    }

    private static Object toJson(EventTypeCounts state) {
        return Map.of("counts", state.counts());
    }

    private static EventTypeCounts fromJson(Object json) {
        if (!(json instanceof Map<?, ?> root) || !(root.get("counts") instanceof Map<?, ?> byType)) {
            throw new IllegalArgumentException("expected {\"counts\": {...}}");
        }
        EventTypeCounts state = new EventTypeCounts();
        for (Map.Entry<?, ?> e : byType.entrySet()) {
            if (!(e.getValue() instanceof Long n) || n < 0) {
                throw new IllegalArgumentException("the count of " + e.getKey() + " is not a count: " + e.getValue());
            }
            state.counts.put((String) e.getKey(), new long[] {n});
            state.total += n;
        }
        return state;
    }

    @Override
    public String toString() {
        return "EventTypeCounts" + counts();
    }
}
