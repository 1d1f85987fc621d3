package io.reel.projection;

import io.reel.aggregate.StateCodec;
import io.reel.store.Direction;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.RecordedEvent;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A test read model that notices every mistake a runner could make: events per stream (a lost or doubled
 * event changes a count) and a hash chained over positions and revisions in order (a reordering, a gap or
 * a duplicate changes it).
 */
final class Fold {
    final TreeMap<String, Long> perStream = new TreeMap<>();
    long events;
    long chain = 17;

    Fold add(RecordedEvent e) {
        perStream.merge(e.stream(), 1L, Long::sum);
        events++;
        chain = chain * 31 + e.position() * 1_000_003 + e.revision();
        return this;
    }

    Fold copy() {
        Fold f = new Fold();
        f.perStream.putAll(perStream);
        f.events = events;
        f.chain = chain;
        return f;
    }

    /** The fold a correct runner must reach: {@code readAll} from 0 up to {@code position}. */
    static Fold over(EventSource source, long position) {
        Fold f = new Fold();
        if (position > 0) {
            source.readAll(0, position, Direction.FORWARDS, EventFilter.none()).doOnNext(f::add).blockLast();
        }
        return f;
    }

    static StateCodec<Fold> codec() {
        return StateCodec.json(f -> {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("events", f.events);
            json.put("chain", f.chain);
            json.put("per_stream", f.perStream);
            return json;
        }, json -> {
            Map<?, ?> m = (Map<?, ?>) json;
            Fold f = new Fold();
            f.events = (Long) m.get("events");
            f.chain = (Long) m.get("chain");
            ((Map<?, ?>) m.get("per_stream")).forEach((k, v) -> f.perStream.put((String) k, (Long) v));
            return f;
        });
    }

    static Projection<Fold> projection(String name) {
        return Projection.builder(name, Fold::new).onAnyOther(Fold::apply).codec(codec()).build();
    }

    private static Fold apply(Fold f, RecordedEvent e) {
        return f.add(e);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Fold f && f.events == events && f.chain == chain && f.perStream.equals(perStream);
    }

    @Override
    public int hashCode() {
        return Objects.hash(events, chain, perStream);
    }

    @Override
    public String toString() {
        return "Fold{events=" + events + ", chain=" + chain + ", streams=" + perStream.size() + "}";
    }
}
