package io.reel.store.groups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * A filtered group that has acknowledged everything stands at the head, with lag 0, whatever streams the last
 * records belong to: its read position used to move only on matching events and every 256 scanned records.
 */
@Timeout(60)
class FilteredGroupIdleLagTest {
    @TempDir
    Path dir;

    @Test
    void aFilteredGroupIdleAtTheHeadHasNoLagAndItsCheckpointAtTheHead() {
        try (EventStore store = EventStore.open(dir)) {
            store.groups().create(GroupOptions.named("billing").filter(EventFilter.builder().streamPrefix("order-").build())).block();
            Disposable consumer = store.groups().join("billing").subscribe(Delivery::ack);
            store.append("order-1", ExpectedRevision.ANY, EventData.json("Placed", "{}")).block();
            await().atMost(Duration.ofSeconds(10)).until(() -> store.groups().list().get(0).checkpoint() == 1);
            for (int i = 0; i < 10; i++) {
                store.append("audit-" + i, ExpectedRevision.ANY, EventData.json("Noted", "{}")).block();
            }
            long head = store.headPosition();
            assertThat(head).isEqualTo(11);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                GroupStatus status = store.groups().list().get(0);
                assertThat(status.checkpoint()).isEqualTo(head);
                assertThat(status.lagEvents()).isZero();
            });
            consumer.dispose();
        }
    }

    @Test
    void aFilteredSubscriptionWithCheckpointAtHeadTellsItsPositionWhenItReachesTheHeadAfterSkippingRecords() {
        try (EventStore store = EventStore.open(dir)) {
            AtomicLong next = new AtomicLong();
            Disposable subscription = store.subscribe(SubscribeOptions.fromStart()
                    .filter(EventFilter.builder().streamPrefix("order-").build()).checkpointAtHead())
                .subscribe(m -> next.set(m.nextPosition()));
            store.append("order-1", ExpectedRevision.ANY, EventData.json("Placed", "{}")).block();
            store.append("audit-1", ExpectedRevision.ANY, EventData.json("Noted", "{}"), EventData.json("Noted", "{}")).block();
            await().atMost(Duration.ofSeconds(10)).until(() -> next.get() == 3);
            subscription.dispose();
        }
    }
}
