package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a store returns to reads, as comparable rows: {@code $all} both ways, and every stream both ways
 * with its metadata. Taken before a restart and compared after it: rebuilding derived data must not change
 * one row.
 */
record ReadSnapshot(List<String> allForwards, List<String> allBackwards, Map<String, List<String>> streamsForwards,
                    Map<String, List<String>> streamsBackwards, Map<String, StreamMetadata> metadata) {

    static String row(RecordedEvent e) {
        return e.position() + " " + e.stream() + "@" + e.revision() + " " + e.type() + " " + e.eventId() + " " + e.timestampMicros()
            + " " + e.encodedLength();
    }

    static List<String> rows(List<RecordedEvent> events) {
        List<String> rows = new ArrayList<>(events.size());
        for (RecordedEvent e : events) {
            rows.add(row(e));
        }
        return rows;
    }

    static ReadSnapshot take(EventStore store, List<String> streams) {
        Map<String, List<String>> forwards = new LinkedHashMap<>();
        Map<String, List<String>> backwards = new LinkedHashMap<>();
        Map<String, StreamMetadata> metadata = new LinkedHashMap<>();
        for (String s : streams) {
            forwards.put(s, readStream(store, s, 0, Direction.FORWARDS));
            backwards.put(s, readStream(store, s, EventSource.END, Direction.BACKWARDS));
            metadata.put(s, TestStores.await(store.streamMetadata(s)));
        }
        return new ReadSnapshot(rows(TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()))),
            rows(TestStores.await(store.readAll(EventSource.END, 0, Direction.BACKWARDS, EventFilter.none()))), forwards, backwards, metadata);
    }

    private static List<String> readStream(EventStore store, String stream, long from, Direction direction) {
        try {
            return rows(TestStores.await(store.readStream(stream, from, 0, direction)));
        } catch (ReelException e) {
            return List.of(e.code().name());
        }
    }

    void assertSameAs(ReadSnapshot before) {
        assertThat(allForwards).as("$all forwards").containsExactlyElementsOf(before.allForwards);
        assertThat(allBackwards).as("$all backwards").containsExactlyElementsOf(before.allBackwards);
        for (String s : before.streamsForwards.keySet()) {
            assertThat(streamsForwards.get(s)).as("stream %s forwards", s).containsExactlyElementsOf(before.streamsForwards.get(s));
            assertThat(streamsBackwards.get(s)).as("stream %s backwards", s).containsExactlyElementsOf(before.streamsBackwards.get(s));
            assertThat(metadata.get(s)).as("metadata of %s", s).isEqualTo(before.metadata.get(s));
        }
    }
}
