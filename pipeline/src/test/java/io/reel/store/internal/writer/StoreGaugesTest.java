package io.reel.store.internal.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.StoreSettings;
import io.reel.store.SubscribeOptions;
import io.reel.store.groups.GroupOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/** The store's gauges on a real store: the fixed ones from the start, a row per named subscription and group once refreshed. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StoreGaugesTest {
    @TempDir
    Path dir;

    @Test
    void gaugesFollowTheLogAndRowsFollowSubscriptionsAndGroupsUntilClose() {
        MeterRegistry registry = new SimpleMeterRegistry();
        EventStore store = EventStore.open(dir, StoreSettings.builder().segmentSize(1 << 20).maxEventSize(64 * 1024).meterRegistry(registry).build());
        Disposable subscription = null;
        try {
            store.append("orders-1", ExpectedRevision.ANY, EventData.json("Placed", "{}"), EventData.json("Paid", "{}"))
                .block(Duration.ofSeconds(10));
            assertThat(registry.get("reel.head.position").gauge().value()).isEqualTo(2);
            // recorded off the writer thread, before the append's Mono completes
            assertThat(registry.get("reel.appends").counter().count()).isEqualTo(1);
            assertThat(registry.get("reel.append.latency").timer().count()).isEqualTo(1);
            // the batch's own meters are recorded by the writer after it has handed the acknowledgements over
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(registry.get("reel.append.events").counter().count()).isEqualTo(2));
            assertThat(registry.get("reel.segments").gauge().value()).isEqualTo(1);
            assertThat(registry.get("reel.log.bytes").gauge().value()).isPositive();
            assertThat(registry.get("reel.writer.queue").gauge().value()).isZero();
            assertThat(registry.get("reel.recovery.replayed.events").gauge().value()).isZero();
            assertThat(registry.get("reel.recovery.seconds").gauge().value()).isNotNegative();

            subscription = store.subscribe(SubscribeOptions.fromStart().name("billing")).limitRate(1).subscribe(m -> { });
            store.groups().create(GroupOptions.named("shipping")).block(Duration.ofSeconds(10));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(registry.find("reel.subscription.lag.events").tag("name", "billing").gauge()).isNotNull();
                assertThat(registry.find("reel.group.lag.events").tag("group", "shipping").gauge()).isNotNull();
                assertThat(registry.find("reel.group.parked").tag("group", "shipping").gauge()).isNotNull();
            });
        } finally {
            if (subscription != null) {
                subscription.dispose();
            }
            store.close();
        }
        assertThat(registry.find("reel.subscription.lag.events").gauges()).isEmpty();
        assertThat(registry.find("reel.group.lag.events").gauges()).isEmpty();
        assertThat(registry.find("reel.head.position").gauge()).isNull();
    }
}
