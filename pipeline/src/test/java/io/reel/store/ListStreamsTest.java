package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/** {@link EventStore#listStreams}: name order, prefix, paging by name, deleted streams, demand. */
@Timeout(60)
class ListStreamsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private static void append(EventStore store, String stream, int events) {
        List<EventData> list = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            list.add(EventData.json("E", "{}"));
        }
        store.append(stream, ExpectedRevision.ANY, list).block(TIMEOUT);
    }

    private static List<StreamSummary> list(EventStore store, String prefix, String after, long max) {
        return store.listStreams(prefix, after, max).collectList().block(TIMEOUT);
    }

    @Test
    void streamsComeInNameOrderWithRevisionLastPositionAndDeleted() {
        try (EventStore store = EventStore.open(dir)) {
            append(store, "order-2", 1);            // position 0
            append(store, "order-10", 2);           // 1, 2
            append(store, "task-1", 1);             // 3
            append(store, "order-2", 1);            // 4
            store.setStreamMetadata("order-10", StreamMetadata.NONE.withMaxCount(5)).block(TIMEOUT);   // $$order-10 is not listed
            store.setStreamMetadata("empty", StreamMetadata.NONE.withMaxCount(5)).block(TIMEOUT);      // metadata alone is no stream
            store.deleteStream("task-1", ExpectedRevision.ANY, false).block(TIMEOUT);
            store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).blockLast(TIMEOUT);

            assertThat(list(store, "", "", 0)).containsExactly(
                new StreamSummary("order-10", 1, 2, false),
                new StreamSummary("order-2", 1, 4, false),
                new StreamSummary("task-1", 0, 3, true));
            assertThat(list(store, "order-", "", 0)).extracting(StreamSummary::stream).containsExactly("order-10", "order-2");
            assertThat(list(store, "order-", "order-10", 0)).extracting(StreamSummary::stream).containsExactly("order-2");
            assertThat(list(store, "", "", 1)).extracting(StreamSummary::stream).containsExactly("order-10");
            assertThat(list(store, "nothing-", "", 0)).isEmpty();
            StepVerifier.create(store.listStreams("", "", -1)).expectErrorMatches(e -> e.getMessage().startsWith("INVALID_ARGUMENT: ")).verify(TIMEOUT);
        }
    }

    @Test
    void manyStreamsArePagedByNameAndDeliveredAsRequested() {
        try (EventStore store = EventStore.open(dir)) {
            List<String> names = IntStream.range(0, 700).mapToObj(i -> String.format("s-%04d", (i * 389) % 700)).toList();
            for (String name : names) {
                append(store, name, 1);
            }
            store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).blockLast(TIMEOUT);
            List<StreamSummary> all = list(store, "s-", "", 0);
            assertThat(all).extracting(StreamSummary::stream).isSorted().hasSize(700).doesNotHaveDuplicates();
            assertThat(list(store, "s-", "s-0299", 300)).extracting(StreamSummary::stream).first().isEqualTo("s-0300");

            StepVerifier.create(store.listStreams("", "", 0), 0)
                .thenRequest(3)
                .expectNextCount(3)
                .expectNoEvent(Duration.ofMillis(100))
                .thenRequest(697)
                .expectNextCount(697)
                .verifyComplete();
        }
    }
}
