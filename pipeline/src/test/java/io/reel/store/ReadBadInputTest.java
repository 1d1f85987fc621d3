package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reel.store.internal.log.LogFormat;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Bad input to every read API fails with {@code INVALID_ARGUMENT} and a sentence naming the field, as an
 * error signal (nothing is thrown while assembling the call), and the store goes on serving; a stream that
 * does not exist reads as empty; the largest counts and positions do not overflow.
 */
@Timeout(30)
class ReadBadInputTest {
    @TempDir
    Path dir;

    private EventStore store;

    @BeforeEach
    void open() {
        store = EventStore.open(dir, TestStores.small().build());
        TestStores.appendMany(store, "order-1", "Placed", 3, 10);
    }

    @AfterEach
    void close() {
        store.close();
    }

    /** The call returns a publisher (it does not throw), which fails with INVALID_ARGUMENT naming the field. */
    private static void rejects(Supplier<? extends Publisher<?>> call, String field) {
        Publisher<?> publisher = call.get();
        StepVerifier.create(publisher)
            .expectErrorSatisfies(e -> {
                assertThat(e).isInstanceOf(ReelException.class);
                assertThat(((ReelException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
                assertThat(e.getMessage()).startsWith("INVALID_ARGUMENT: ").contains(field);
            })
            .verify(Duration.ofSeconds(10));
    }

    private static void throwsInvalid(Runnable call, String field) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ReelException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains(field);
        });
    }

    private void storeStillServes() {
        assertThat(TestStores.await(store.readStream("order-1", 0, 0, Direction.FORWARDS))).hasSize(3);
    }

    @Test
    void readStreamRejectsEmptyNamesAndNegativeNumbers() {
        rejects(() -> store.readStream("", 0, 0, Direction.FORWARDS), "stream");
        rejects(() -> store.readStream(null, 0, 0, Direction.FORWARDS), "stream");
        rejects(() -> store.readStream("x".repeat(LogFormat.MAX_STREAM_NAME + 1), 0, 0, Direction.FORWARDS), "stream");
        rejects(() -> store.readStream("order-1", -1, 0, Direction.FORWARDS), "from_revision");
        rejects(() -> store.readStream("order-1", Long.MIN_VALUE, 0, Direction.BACKWARDS), "from_revision");
        rejects(() -> store.readStream("order-1", 0, -1, Direction.FORWARDS), "max_count");
        storeStillServes();
    }

    @Test
    void aMaximumAgeOfCenturiesHidesNothingAndBreaksNeitherReadsNorScavenge() {
        TestStores.appendMany(store, "old", "T", 3, 10);
        // as long as the wire's max_age_seconds allows: its nanoseconds overflow a long
        TestStores.await(store.setStreamMetadata("old", StreamMetadata.NONE.withMaxAge(java.time.Duration.ofSeconds(Long.MAX_VALUE / 1000))));
        assertThat(TestStores.await(store.readStream("old", 0, 0, Direction.FORWARDS))).hasSize(3);
        TestStores.await(store.scavenge());
        assertThat(TestStores.await(store.readStream("old", 0, 0, Direction.FORWARDS))).hasSize(3);
    }

    @Test
    void aStoredFilterKeepsARegexRe2RefusesAndCountsOnlyRealRepetitions() {
        // a consumer group's filter written before filters moved to RE2: still searched, as it was
        EventFilter stored = EventFilter.builder().streamRegex("^(?!audit-)").buildStored();
        throwsInvalid(() -> EventFilter.builder().streamRegex("^(?!audit-)").build(), "RE2");
        assertThat(stored.streamRegex()).isEqualTo("^(?!audit-)");
        assertThat(EventFilter.Builder.repeatProduct("a{2}b{3,}c{1,4}")).isEqualTo(2 * 3 * 4);
        assertThat(EventFilter.Builder.repeatProduct("[{9}]\\{9}\\Qx{9}\\E{x}")).isEqualTo(1);
    }

    @Test
    void aRegexThatWouldBacktrackForEverIsMatchedInLinearTime() {
        TestStores.appendMany(store, "a".repeat(40), "T", 2, 10);
        // exponential for a backtracking engine on a 40-character name that does not match; a reader thread would be held
        EventFilter hostile = EventFilter.builder().streamRegex("^(a|aa)+$X").build();
        assertThat(TestStores.await(store.readAll(0, 0, Direction.FORWARDS, hostile))).isEmpty();
        assertThat(TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.builder().streamRegex("^(a|aa)+$").build()))).hasSize(2);
    }

    @Test
    void readAllRejectsNegativeNumbers() {
        rejects(() -> store.readAll(-1, 0, Direction.FORWARDS, EventFilter.none()), "from_position");
        rejects(() -> store.readAll(0, -5, Direction.BACKWARDS, EventFilter.none()), "max_count");
        storeStillServes();
    }

    @Test
    void filtersRejectRegexesThatDoNotCompileAndEmptyCriteria() {
        throwsInvalid(() -> EventFilter.builder().streamRegex("order-(").build(), "filter.stream_regex");
        throwsInvalid(() -> EventFilter.builder().typeRegex("[Placed").build(), "filter.type_regex");
        throwsInvalid(() -> EventFilter.builder().streamRegex("(a)\\1").build(), "RE2");   // a backreference
        // 23 characters that RE2 would unroll into a billion copies (and run the JVM out of memory compiling)
        throwsInvalid(() -> EventFilter.builder().streamRegex("((a{1000}){1000}){1000}").build(), "multiply");
        assertThat(EventFilter.builder().streamRegex("^order-\\d{1,8}$").build().streamRegex()).isEqualTo("^order-\\d{1,8}$");
        throwsInvalid(() -> EventFilter.builder().streamRegex("x".repeat(EventFilter.MAX_REGEX_LENGTH + 1)).build(), "filter.stream_regex");
        throwsInvalid(() -> EventFilter.builder().streamPrefixes(java.util.Collections.nCopies(EventFilter.MAX_CRITERIA + 1, "p")).build(),
            "stream prefixes");
        throwsInvalid(() -> EventFilter.builder().streamPrefix("").build(), "filter.stream_prefixes");
        throwsInvalid(() -> EventFilter.builder().eventType("").build(), "filter.event_types");
        storeStillServes();
    }

    @Test
    void subscribeOptionsAndCheckpointsRejectBadValues() {
        throwsInvalid(() -> SubscribeOptions.fromPosition(-1), "from_position");
        throwsInvalid(() -> SubscribeOptions.fromStart().checkpointInterval(0), "checkpoint interval");
        throwsInvalid(() -> SubscribeOptions.fromStart().name("  "), "name");
        rejects(() -> store.checkpoint("", 3), "name");
        rejects(() -> store.checkpoint("consumer", -1), "position");
        // refused at once, not at the flush (which retried it forever, warning every interval)
        rejects(() -> store.checkpoint("n".repeat(181), 3), "checkpoint");
        rejects(() -> store.streamMetadata(""), "stream");
        storeStillServes();
    }

    @Test
    void aMissingStreamReadsAsEmpty() {
        assertThat(TestStores.await(store.readStream("never-written", 0, 0, Direction.FORWARDS))).isEmpty();
        assertThat(TestStores.await(store.readStream("never-written", EventSource.END, 10, Direction.BACKWARDS))).isEmpty();
        assertThat(TestStores.await(store.streamMetadata("never-written"))).isEqualTo(StreamMetadata.NONE);
        assertThat(TestStores.await(store.readAll(0, 0, Direction.FORWARDS, EventFilter.builder().streamPrefix("never-").build()))).isEmpty();
    }

    @Test
    void theLargestCountsAndPositionsDoNotOverflow() {
        assertThat(TestStores.await(store.readStream("order-1", Long.MAX_VALUE, Long.MAX_VALUE, Direction.FORWARDS))).isEmpty();
        assertThat(TestStores.await(store.readStream("order-1", Long.MAX_VALUE, Long.MAX_VALUE, Direction.BACKWARDS)))
            .extracting(RecordedEvent::revision).containsExactly(2L, 1L, 0L);
        assertThat(TestStores.await(store.readStream("order-1", 1, Long.MAX_VALUE, Direction.FORWARDS)))
            .extracting(RecordedEvent::revision).containsExactly(1L, 2L);
        assertThat(TestStores.await(store.readAll(Long.MAX_VALUE, Long.MAX_VALUE, Direction.FORWARDS, EventFilter.none()))).isEmpty();
        assertThat(TestStores.await(store.readAll(Long.MAX_VALUE - 1, Long.MAX_VALUE, Direction.FORWARDS, EventFilter.none()))).isEmpty();
        assertThat(TestStores.await(store.readAll(Long.MAX_VALUE, Long.MAX_VALUE, Direction.BACKWARDS, EventFilter.none())))
            .extracting(RecordedEvent::position).containsExactly(2L, 1L, 0L);
        assertThat(TestStores.await(store.readAll(1, 1, Direction.BACKWARDS, EventFilter.none())))
            .extracting(RecordedEvent::position).containsExactly(1L);
        List<SubscriptionMessage> far = store.subscribe(SubscribeOptions.fromPosition(Long.MAX_VALUE)).take(1).collectList()
            .block(Duration.ofSeconds(10));
        assertThat(far).containsExactly(new SubscriptionMessage.CaughtUp(Long.MAX_VALUE));
        TestStores.await(store.checkpoint("far", Long.MAX_VALUE));
        assertThat(store.checkpoints()).containsEntry("far", Long.MAX_VALUE);
    }

    @Test
    void callsAreLazyAndRepeatable() {
        Flux<RecordedEvent> read = store.readStream("order-1", 0, 0, Direction.FORWARDS);
        Mono<Void> checkpoint = store.checkpoint("lazy", 2);
        assertThat(store.checkpoints()).doesNotContainKey("lazy");
        TestStores.await(checkpoint);
        assertThat(store.checkpoints()).containsEntry("lazy", 2L);
        TestStores.appendMany(store, "order-1", "Paid", 1, 10);
        assertThat(TestStores.await(read)).as("a read sees the head of when it is subscribed").hasSize(4);
    }
}
