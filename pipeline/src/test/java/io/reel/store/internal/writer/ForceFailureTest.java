package io.reel.store.internal.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.store.AppendResult;
import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import io.reel.store.internal.index.StreamIndex;
import io.reel.store.internal.log.DurablePoint;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.LogRecovery;
import io.reel.store.internal.log.RecentRecords;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A force that fails stops writes until the store is reopened (fsyncgate: a second fsync may report success for
 * pages the kernel dropped). The failure is real: the active segment's channel is closed under the writer, so its
 * next force throws, as a failing disk would make it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForceFailureTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void aFailedForceFailsTheAppendAndEveryLaterOneUntilReopenedAndLosesNothingAcknowledged() throws Exception {
        // batched with an hour's interval: the second append is acknowledged unforced, and the roll that the third
        // needs forces it first
        StoreSettings settings = StoreSettings.builder().segmentSize(64 * 1024).maxEventSize(40 * 1024)
            .durability(Durability.batched(Duration.ofHours(1))).build();
        Log log = LogRecovery.open(dir, settings).log();
        DurablePoint durablePoint = DurablePoint.open(log.dir());
        StoreMetrics metrics = new StoreMetrics(new SimpleMeterRegistry());
        WriterStage writer = new WriterStage(log, new StreamHeads(), new StreamIndex(), new RecentRecords(64, 1 << 20), durablePoint,
            () -> { }, settings, metrics);
        writer.start();
        try {
            AppendResult first = writer.submit(append("a", 100)).block(WAIT);
            AppendResult second = writer.submit(append("a", 30 * 1024)).block(WAIT);
            assertThat(second.lastPosition()).isEqualTo(first.lastPosition() + 1);

            log.active().release();   // the log's own reference: the channel closes, and the next force fails

            assertThatThrownBy(() -> writer.submit(append("b", 40 * 1024 - 512)).block(WAIT))
                .isInstanceOfSatisfying(ReelException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR);
                    assertThat(e.getMessage()).contains("to disk failed").contains("writes are stopped until the store is reopened");
                });
            assertThatThrownBy(() -> writer.submit(append("c", 100)).block(WAIT))
                .isInstanceOfSatisfying(ReelException.class, e -> assertThat(e.getMessage()).contains("writes are stopped until the store is reopened"));
            assertThat(writer.state()).startsWith("IO_ERROR: forcing ");
            assertThat(log.head().position()).as("nothing past the acknowledged appends is published").isEqualTo(second.lastPosition() + 1);
        } finally {
            writer.close();
            durablePoint.close();
            log.close();
        }

        try (EventStore reopened = EventStore.open(dir, settings)) {
            List<RecordedEvent> events = reopened.readAll(0, 10, io.reel.store.Direction.FORWARDS, io.reel.store.EventFilter.none()).collectList().block(WAIT);
            assertThat(events).extracting(RecordedEvent::stream).startsWith("a", "a");
            assertThat(reopened.append("d", ExpectedRevision.ANY, EventData.of("Written", new byte[10])).block(WAIT))
                .as("writes resume once the store is reopened").isNotNull();
        }
    }

    private static AppendCommand append(String stream, int payload) {
        return AppendCommand.append(stream, ExpectedRevision.ANY, List.of(EventData.of("Written", new byte[payload])));
    }
}
