package io.reel.transport.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.proto.AppendBatchResult;
import io.reel.proto.ClusterEntry;
import io.reel.proto.ClusterWrite;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** How writes are gathered into entries: natural batching, a bounded queue, and what a failed entry answers. */
class EntryGathererTest {
    private final List<ClusterEntry> sent = new CopyOnWriteArrayList<>();
    private final List<CompletableFuture<AppendBatchResult>> replies = new CopyOnWriteArrayList<>();

    private CompletableFuture<AppendBatchResult> send(ClusterEntry entry) {
        sent.add(entry);
        CompletableFuture<AppendBatchResult> reply = new CompletableFuture<>();
        replies.add(reply);
        return reply;
    }

    private static ClusterWrite write(int i) {
        return Writes.append("s-" + i, ExpectedRevision.ANY, List.of(EventData.json("T", "{}")));
    }

    private static AppendBatchResult results(ClusterEntry entry, long first) {
        AppendBatchResult.Builder b = AppendBatchResult.newBuilder();
        for (int i = 0; i < entry.getWritesCount(); i++) {
            b.addOutcomes(Writes.outcome(new AppendResult(first + i, first + i, 0)));
        }
        return b.build();
    }

    @Test
    void writesArrivingWhileAnEntryIsInFlightLeaveTogetherInTheNext() {
        EntryGatherer gatherer = new EntryGatherer(this::send, () -> 1, 100, 1 << 20, 1, 1000);
        List<AppendResult> answered = new CopyOnWriteArrayList<>();
        gatherer.submit(write(0)).subscribe(answered::add);
        for (int i = 1; i <= 5; i++) {
            gatherer.submit(write(i)).subscribe(answered::add);
        }
        assertThat(sent).hasSize(1);
        assertThat(gatherer.queued()).isEqualTo(5);
        replies.get(0).complete(results(sent.get(0), 0));
        assertThat(sent).hasSize(2);
        assertThat(sent.get(1).getWritesCount()).isEqualTo(5);
        replies.get(1).complete(results(sent.get(1), 1));
        assertThat(answered).extracting(AppendResult::firstPosition).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void aFullQueueFailsAWriteAtOnceWithOverloaded() {
        EntryGatherer gatherer = new EntryGatherer(this::send, () -> 1, 100, 1 << 20, 1, 2);
        gatherer.submit(write(0)).subscribe();
        gatherer.submit(write(1)).subscribe();
        gatherer.submit(write(2)).subscribe();
        StepVerifier.create(gatherer.submit(write(3)))
            .expectErrorSatisfies(e -> assertThat(((ReelException) e).code()).isEqualTo(ErrorCode.OVERLOADED))
            .verify(Duration.ofSeconds(5));
    }

    @Test
    void anEntryTheClusterDidNotCommitAnswersItsWritesWithUnavailableAndOutcomesKeepTheirErrors() {
        EntryGatherer gatherer = new EntryGatherer(this::send, () -> 1, 100, 1 << 20, 2, 100);
        List<Throwable> errors = new ArrayList<>();
        gatherer.submit(write(0)).subscribe(r -> { }, errors::add);
        gatherer.submit(write(1)).subscribe(r -> { }, errors::add);
        replies.get(0).completeExceptionally(new IOException("no leader"));
        replies.get(1).complete(AppendBatchResult.newBuilder()
            .addOutcomes(Writes.outcome(new ReelException(ErrorCode.WRONG_EXPECTED_VERSION, "stream 's-1' is at revision 3"))).build());
        assertThat(errors).extracting(e -> ((ReelException) e).code()).containsExactly(ErrorCode.UNAVAILABLE, ErrorCode.WRONG_EXPECTED_VERSION);
        assertThat(errors.get(0)).hasMessageContaining("retrying it with the same event ids is safe");
    }
}
