package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventStoreSmokeTest {
    @TempDir
    Path dir;

    @Test
    void appendsReadsAndSubscribes() {
        StoreSettings settings = StoreSettings.builder().segmentSize(1 << 20).maxEventSize(64 * 1024).build();
        try (EventStore store = EventStore.open(dir, settings)) {
            AppendResult r = store.append("order-1", ExpectedRevision.NO_STREAM, EventData.json("Placed", "{}"),
                EventData.json("Paid", "{}")).block();
            assertThat(r).isEqualTo(new AppendResult(0, 1, 1));
            AppendResult r2 = store.append("order-2", ExpectedRevision.ANY, EventData.json("Placed", "{}")).block();
            assertThat(r2).isEqualTo(new AppendResult(2, 2, 0));
            List<RecordedEvent> events = store.readStream("order-1", 0, 0, Direction.FORWARDS).collectList().block();
            assertThat(events).extracting(RecordedEvent::type).containsExactly("Placed", "Paid");
            List<RecordedEvent> all = store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).collectList().block();
            assertThat(all).extracting(RecordedEvent::position).containsExactly(0L, 1L, 2L);
            List<RecordedEvent> back = store.readAll(EventSource.END, 0, Direction.BACKWARDS, EventFilter.none()).collectList().block();
            assertThat(back).extracting(RecordedEvent::position).containsExactly(2L, 1L, 0L);
            List<SubscriptionMessage> msgs = store.subscribe(SubscribeOptions.fromStart()).take(4).collectList().block(Duration.ofSeconds(10));
            assertThat(msgs).hasSize(4);
            assertThat(msgs.get(3)).isInstanceOf(SubscriptionMessage.CaughtUp.class);
            assertThatThrownBy(() -> store.append("order-1", ExpectedRevision.NO_STREAM, EventData.json("X", "{}")).block())
                .isInstanceOf(WrongExpectedVersionException.class);
            for (int i = 0; i < 2000; i++) {
                store.append("s-" + (i % 10), ExpectedRevision.ANY, EventData.of("T", new byte[600])).block();
            }
            assertThat(store.info().segments()).isGreaterThan(1);
        }
        try (EventStore store = EventStore.open(dir, settings)) {
            assertThat(store.headPosition()).isEqualTo(2003);
            assertThat(store.readStream("s-3", 0, 0, Direction.FORWARDS).count().block()).isEqualTo(200);
            assertThat(store.readAll(0, 0, Direction.FORWARDS, EventFilter.none()).count().block()).isEqualTo(2003);
            assertThat(store.readAll(EventSource.END, 0, Direction.BACKWARDS, EventFilter.none()).count().block()).isEqualTo(2003);
        }
    }
}
