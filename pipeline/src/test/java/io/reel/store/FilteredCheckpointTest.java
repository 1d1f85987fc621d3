package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

/**
 * A consumer of a rare event type: while nothing matches, checkpoint messages keep arriving (in catch-up and
 * live), one per {@code checkpointInterval} scanned records; a consumer that stores them resumes, after a
 * restart, from the last one instead of replaying the world.
 */
@Timeout(60)
class FilteredCheckpointTest {
    private static final int INTERVAL = 100;

    @TempDir
    Path dir;

    /** Stores every message's next position as the named subscription's checkpoint, as a real consumer would. */
    private static final class CheckpointingConsumer extends BaseSubscriber<SubscriptionMessage> {
        final List<SubscriptionMessage> received = new CopyOnWriteArrayList<>();
        private final EventStore store;
        private final String name;

        CheckpointingConsumer(EventStore store, String name) {
            this.store = store;
            this.name = name;
        }

        @Override
        protected void hookOnSubscribe(Subscription s) {
            request(Long.MAX_VALUE);
        }

        @Override
        protected void hookOnNext(SubscriptionMessage m) {
            received.add(m);
            store.checkpoint(name, m.nextPosition()).subscribe();
        }

        List<Long> checkpoints() {
            return received.stream().filter(m -> m instanceof SubscriptionMessage.Checkpoint).map(SubscriptionMessage::nextPosition).toList();
        }

        boolean caughtUp() {
            return received.stream().anyMatch(m -> m instanceof SubscriptionMessage.CaughtUp);
        }
    }

    private static void appendCommon(EventStore store, int count) {
        for (int i = 0; i < count; i += 50) {
            List<EventData> batch = new ArrayList<>();
            for (int j = 0; j < Math.min(50, count - i); j++) {
                batch.add(TestStores.event("Common", 40));
            }
            TestStores.await(store.append("busy-" + (i / 50) % 3, ExpectedRevision.ANY, batch));
        }
    }

    @Test
    void checkpointsKeepComingWhileNothingMatchesAndARestartResumesFromTheLastOne() {
        EventFilter rare = EventFilter.builder().eventType("Rare").build();
        SubscribeOptions options = SubscribeOptions.fromStart().name("rare-consumer").filter(rare).checkpointInterval(INTERVAL);
        long rarePosition;
        long storedBeforeRestart;
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            appendCommon(store, 2500);
            rarePosition = TestStores.await(store.append("odd", ExpectedRevision.ANY, TestStores.event("Rare"))).firstPosition();
            appendCommon(store, 2499);
            long head = store.headPosition();
            assertThat(head).isEqualTo(5000);

            CheckpointingConsumer consumer = new CheckpointingConsumer(store, "rare-consumer");
            store.subscribe(options).subscribe(consumer);
            await().atMost(Duration.ofSeconds(20)).until(consumer::caughtUp);
            List<SubscriptionMessage> catchUp = List.copyOf(consumer.received);
            List<SubscriptionMessage> expected = new ArrayList<>();
            for (long p = INTERVAL; p <= rarePosition; p += INTERVAL) {
                expected.add(new SubscriptionMessage.Checkpoint(p));
            }
            int eventAt = expected.size();
            for (long p = rarePosition + 1 + INTERVAL; p <= head; p += INTERVAL) {
                expected.add(new SubscriptionMessage.Checkpoint(p));
            }
            expected.add(new SubscriptionMessage.CaughtUp(head));
            assertThat(catchUp).hasSize(expected.size() + 1);
            assertThat(((SubscriptionMessage.Event) catchUp.get(eventAt)).event().position()).isEqualTo(rarePosition);
            List<SubscriptionMessage> signals = new ArrayList<>(catchUp);
            signals.remove(eventAt);
            assertThat(signals).as("a checkpoint every %d scanned records that did not match", INTERVAL).containsExactlyElementsOf(expected);

            // live: still nothing matches, checkpoints keep the consumer's position moving
            appendCommon(store, 1000);
            await().atMost(Duration.ofSeconds(20)).until(() -> consumer.checkpoints().get(consumer.checkpoints().size() - 1) >= 5900);
            assertThat(consumer.received.stream().filter(m -> m instanceof SubscriptionMessage.Event)).hasSize(1);
            consumer.dispose();
            // the consumer stores each checkpoint just after it received it: wait for the last one to be stored
            await().atMost(Duration.ofSeconds(10)).until(() -> java.util.Objects.equals(store.checkpoints().get("rare-consumer"),
                consumer.checkpoints().get(consumer.checkpoints().size() - 1)));
            storedBeforeRestart = store.checkpoints().get("rare-consumer");
            assertThat(storedBeforeRestart).isGreaterThanOrEqualTo(5900);
            appendCommon(store, 500);
        }
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            assertThat(store.checkpoints()).as("the checkpoint was flushed on close").containsEntry("rare-consumer", storedBeforeRestart);
            long head = store.headPosition();
            CheckpointingConsumer resumed = new CheckpointingConsumer(store, "rare-consumer");
            store.subscribe(options).subscribe(resumed);
            await().atMost(Duration.ofSeconds(20)).until(resumed::caughtUp);
            List<Long> checkpoints = resumed.checkpoints();
            assertThat(resumed.received.stream().filter(m -> m instanceof SubscriptionMessage.Event)).as("the rare event is not replayed").isEmpty();
            assertThat(checkpoints).as("resumed from the stored checkpoint, not from the start").isNotEmpty()
                .first().isEqualTo(storedBeforeRestart + INTERVAL);
            assertThat(checkpoints).hasSize((int) ((head - storedBeforeRestart) / INTERVAL));
            resumed.dispose();
        }
    }

    @Test
    void aFilterThatNeverMatchesStillReportsProgressLive() {
        try (EventStore store = EventStore.open(dir, TestStores.small().build())) {
            EventFilter never = EventFilter.builder().streamPrefix("nobody-").build();
            CheckpointingConsumer consumer = new CheckpointingConsumer(store, "never");
            store.subscribe(SubscribeOptions.fromEnd().name("never").filter(never).checkpointInterval(7)).subscribe(consumer);
            await().atMost(Duration.ofSeconds(10)).until(consumer::caughtUp);
            for (int i = 0; i < 70; i++) {
                TestStores.await(store.append("busy", ExpectedRevision.ANY, TestStores.event("Common")));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> consumer.checkpoints().size() == 10);
            assertThat(consumer.checkpoints()).containsExactly(7L, 14L, 21L, 28L, 35L, 42L, 49L, 56L, 63L, 70L);
            await().atMost(Duration.ofSeconds(10)).until(() -> Long.valueOf(70L).equals(store.checkpoints().get("never")));
            consumer.dispose();
        }
    }
}
