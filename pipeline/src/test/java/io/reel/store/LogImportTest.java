package io.reel.store;

import static io.reel.store.TestStores.await;
import static io.reel.store.TestStores.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * {@link EventStore#copyLog} and {@link EventStore#importLog}: a store continues its log from a copy of another
 * replica's, in two steps, across segment boundaries and metadata changes, and ends with the same records,
 * byte for byte, and the same stream state (revisions, deletes, idempotency) as the source.
 */
@Timeout(60)
class LogImportTest {
    @TempDir
    Path dir;

    @Test
    void importedFramesContinueTheLogAsTheSourceWroteIt() {
        StoreSettings settings = TestStores.small().build();
        List<EventData> firstOfA = new ArrayList<>();
        long middle;
        long head;
        try (EventStore source = EventStore.open(dir.resolve("source"), settings)) {
            for (int i = 0; i < 150; i++) {
                List<EventData> append = List.of(event("T", 500), event("U", 100));
                if (i == 0) {
                    firstOfA.addAll(append);
                }
                await(source.append("a-" + (i % 7), ExpectedRevision.ANY, append));
            }
            middle = source.headPosition();
            source.copyLog(dir.resolve("copy-1"));
            await(source.setStreamMetadata("a-1", StreamMetadata.NONE.withMaxCount(3)));
            await(source.deleteStream("a-2", ExpectedRevision.ANY, false));
            await(source.deleteStream("a-3", ExpectedRevision.ANY, true));
            for (int i = 0; i < 150; i++) {
                await(source.append("b-" + (i % 5), ExpectedRevision.ANY, event("T", 300)));
            }
            head = source.copyLog(dir.resolve("copy-2"));
            assertThat(head).isEqualTo(source.headPosition());
        }
        try (EventStore source = EventStore.open(dir.resolve("source"), settings);
             EventStore replica = EventStore.open(dir.resolve("replica"), settings)) {
            List<Long> live = new CopyOnWriteArrayList<>();
            Disposable subscription = replica.subscribe(SubscribeOptions.fromStart()).subscribe(m -> {
                if (m instanceof SubscriptionMessage.Event e) {
                    live.add(e.event().position());
                }
            });
            assertThat(replica.importLog(dir.resolve("copy-1"), middle)).isEqualTo(middle);
            assertThat(replica.importLog(dir.resolve("copy-2"), head)).isEqualTo(head - middle);
            assertThat(replica.headPosition()).isEqualTo(head);
            List<RecordedEvent> expected = await(source.readAll(0, 0, Direction.FORWARDS, EventFilter.none()));
            List<RecordedEvent> actual = await(replica.readAll(0, 0, Direction.FORWARDS, EventFilter.none()));
            assertThat(actual).hasSameSizeAs(expected);
            for (int i = 0; i < expected.size(); i++) {
                assertThat(actual.get(i).encoded()).as("position %d, byte for byte", i).isEqualTo(expected.get(i).encoded());
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> live.size() == head);
            subscription.dispose();
            assertThat(await(replica.readStream("a-1", 0, 0, Direction.FORWARDS))).as("maxCount 3 is in force").hasSize(3);
            assertThat(await(replica.readStream("a-2", 0, 0, Direction.FORWARDS))).as("soft-deleted").isEmpty();
            assertThatThrownBy(() -> await(replica.append("a-3", ExpectedRevision.ANY, event("T"))))
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STREAM_DELETED));
            AppendResult next = await(replica.append("b-0", ExpectedRevision.exactly(29), event("T")));
            assertThat(next.firstPosition()).isEqualTo(head);
            AppendResult again = await(replica.append("a-0", ExpectedRevision.ANY, firstOfA));
            assertThat(again.firstPosition()).as("a retry of an imported append gets its result, not a copy").isEqualTo(0);
            assertThat(replica.headPosition()).isEqualTo(head + 1);
        }
    }

    @Test
    void aCopyThatDoesNotContinueTheLogIsRefused() {
        StoreSettings settings = TestStores.small().build();
        try (EventStore source = EventStore.open(dir.resolve("source"), settings);
             EventStore other = EventStore.open(dir.resolve("other"), settings)) {
            for (int i = 0; i < 20; i++) {
                await(source.append("s", ExpectedRevision.ANY, event("T", 100)));
            }
            for (int i = 0; i < 10; i++) {
                await(other.append("o", ExpectedRevision.ANY, event("T", 100)));
            }
            long head = source.copyLog(dir.resolve("copy"));
            assertThatThrownBy(() -> other.importLog(dir.resolve("copy"), head))
                .as("stream s is at revision 10 in the copy, and new in this log")
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTED));
            assertThatThrownBy(() -> other.importLog(dir.resolve("copy"), head + 5)).as("the copy ends before 25")
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTED));
            assertThat(other.headPosition()).as("nothing written").isEqualTo(10);
        }
    }
}
