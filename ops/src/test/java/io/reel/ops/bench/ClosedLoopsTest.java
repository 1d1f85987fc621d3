package io.reel.ops.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** The bench's closed loops: every producer makes exactly its calls, one at a time, on whatever thread answers. */
class ClosedLoopsTest {
    @Test
    void everyProducerMakesItsCallsOneAfterTheOtherWhicheverThreadAnswers() {
        int producers = 16;
        long perProducer = 200;
        AtomicInteger[] inFlight = new AtomicInteger[producers];
        long[] nextExpected = new long[producers];
        Set<String> overlaps = ConcurrentHashMap.newKeySet();
        for (int p = 0; p < producers; p++) {
            inFlight[p] = new AtomicInteger();
        }
        ClosedLoops.Outcome outcome = ClosedLoops.run(producers, perProducer, Long.MAX_VALUE, Duration.ofSeconds(10).toNanos(), (p, i) -> {
            if (inFlight[p].incrementAndGet() != 1 || nextExpected[p] != i) {
                overlaps.add(p + ":" + i);
            }
            nextExpected[p] = i + 1;
            // every third call answers at once, on the caller's stack; the others on another thread
            Mono<Object> answer = Mono.fromCallable(() -> {
                inFlight[p].decrementAndGet();
                return i;
            });
            return i % 3 == 0 ? answer : answer.subscribeOn(Schedulers.parallel());
        });
        assertThat(overlaps).isEmpty();
        assertThat(outcome.done()).isEqualTo(producers * perProducer);
        assertThat(outcome.latencies().getTotalCount()).isEqualTo(producers * perProducer);
    }

    @Test
    void aWarmUpMakesNoMoreCallsThanAllowed() {
        AtomicInteger calls = new AtomicInteger();
        ClosedLoops.warmUp(4, 10_000_000, 25, (p, i) -> {
            calls.incrementAndGet();
            return Mono.just(i).subscribeOn(Schedulers.parallel());
        });
        assertThat(calls.get()).isLessThanOrEqualTo(4 * 25);
    }

    @Test
    void aDeadlineEndsTheLoopsAndAFailureIsThrownOnceAllStopped() {
        ClosedLoops.Outcome early = ClosedLoops.run(4, Long.MAX_VALUE, System.nanoTime() + Duration.ofMillis(200).toNanos(),
            Duration.ofSeconds(10).toNanos(), (p, i) -> Mono.delay(Duration.ofMillis(1)));
        assertThat(early.done()).isPositive();

        assertThatThrownBy(() -> ClosedLoops.run(4, 100, Long.MAX_VALUE, Duration.ofSeconds(10).toNanos(),
            (p, i) -> p == 2 && i == 10 ? Mono.error(new IllegalStateException("boom")) : Mono.just(i).subscribeOn(Schedulers.parallel())))
            .hasMessageContaining("boom");
    }
}
