package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A soft-deleted stream, before and after an append recreates it, as metadata and as errors describe it. */
@Timeout(60)
class SoftDeleteRecreateTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void aRecreatedStreamIsNoLongerSoftDeletedInItsMetadataOrTheListing() {
        try (EventStore store = EventStore.open(dir)) {
            store.append("w", ExpectedRevision.ANY, EventData.json("A", "{}"), EventData.json("B", "{}")).block(TIMEOUT);
            store.deleteStream("w", ExpectedRevision.ANY, false).block(TIMEOUT);
            assertThat(store.streamMetadata("w").block(TIMEOUT).softDeleted()).isTrue();
            assertThat(store.listStreams("w", "", 0).blockFirst(TIMEOUT).deleted()).isTrue();

            store.append("w", ExpectedRevision.NO_STREAM, EventData.json("C", "{}")).block(TIMEOUT);
            StreamMetadata after = store.streamMetadata("w").block(TIMEOUT);
            assertThat(after.softDeleted()).isFalse();
            assertThat(after.hardDeleted()).isFalse();
            assertThat(store.listStreams("w", "", 0).blockFirst(TIMEOUT)).isEqualTo(new StreamSummary("w", 2, 3, false));
            assertThat(store.readStream("w", 0, 0, Direction.FORWARDS).map(RecordedEvent::type).collectList().block(TIMEOUT))
                .containsExactly("C");
        }
        try (EventStore reopened = EventStore.open(dir)) {
            assertThat(reopened.streamMetadata("w").block(TIMEOUT).softDeleted()).as("after a restart too").isFalse();
        }
    }

    @Test
    void streamExistsOnASoftDeletedStreamSaysTheStreamIsDeleted() {
        try (EventStore store = EventStore.open(dir)) {
            store.append("w", ExpectedRevision.ANY, EventData.json("A", "{}"), EventData.json("B", "{}")).block(TIMEOUT);
            store.deleteStream("w", ExpectedRevision.ANY, false).block(TIMEOUT);
            assertThatThrownBy(() -> store.append("w", ExpectedRevision.STREAM_EXISTS, EventData.json("C", "{}")).block(TIMEOUT))
                .isInstanceOf(WrongExpectedVersionException.class)
                .hasMessage("WRONG_EXPECTED_VERSION: stream 'w' is deleted (soft-deleted at revision 1), but the request expected "
                    + "STREAM_EXISTS; nothing was written: an append with NO_STREAM or ANY recreates it, continuing at revision 2");
        }
    }
}
