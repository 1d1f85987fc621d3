package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Appends are acknowledged off the writer thread, on the store's {@code reel-acks} thread, in the order the writer
 * decided them (rejections and acknowledgements alike), and a subscriber that blocks there fails fast.
 */
@Timeout(60)
class AcknowledgementTest {
    @TempDir
    Path dir;

    @Test
    void outcomesArriveOnTheAcknowledgingThreadInTheWritersOrder() {
        try (EventStore store = EventStore.open(dir)) {
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<String> threads = new ConcurrentLinkedQueue<>();
            List<CompletableFuture<?>> all = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                String name = "a-" + i;
                // every fifth append claims 'contended' as new: the first wins, the others are rejected
                String stream = i % 5 == 0 ? "contended" : "own-" + i;
                all.add(store.append(stream, ExpectedRevision.NO_STREAM, EventData.of("T", new byte[] {1}))
                    .doOnEach(signal -> {
                        if (signal.isOnNext()) {
                            order.add(name);
                        }
                        if (!signal.isOnComplete()) {
                            threads.add(Thread.currentThread().getName());
                        }
                    })
                    .onErrorResume(WrongExpectedVersionException.class, e -> reactor.core.publisher.Mono.empty())
                    .toFuture());
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
            assertThat(threads).hasSize(500).containsOnly("reel-acks");
            // acknowledgements in the order the appends were made (a rejection is told as soon as the writer decides it,
            // ahead of the acknowledgements of its batch, as before)
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                if (i == 0 || i % 5 != 0) {
                    expected.add("a-" + i);
                }
            }
            assertThat(order).containsExactlyElementsOf(expected);
            assertThat(store.headPosition()).isEqualTo(401);
        }
    }

    @Test
    void aSubscriberThatBlocksOnTheAcknowledgingThreadFailsFast() {
        try (EventStore store = EventStore.open(dir)) {
            CompletableFuture<Throwable> blocked = new CompletableFuture<>();
            store.append("s", ExpectedRevision.ANY, EventData.of("T", new byte[0])).subscribe(r -> {
                try {
                    store.append("s", ExpectedRevision.ANY, EventData.of("T", new byte[0])).block(Duration.ofSeconds(5));
                    blocked.complete(null);
                } catch (RuntimeException e) {
                    blocked.complete(e);
                }
            });
            assertThat(blocked.join()).isInstanceOf(IllegalStateException.class).hasMessageContaining("block");
            assertThat(store.append("s", ExpectedRevision.ANY, EventData.of("T", new byte[0])).block(Duration.ofSeconds(10)))
                .isNotNull();
        }
    }
}
