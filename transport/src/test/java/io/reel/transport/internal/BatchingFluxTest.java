package io.reel.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import io.reel.proto.EventRecord;
import io.reel.proto.SubscriptionItem;
import io.reel.store.RecordedEvent;
import io.reel.store.SubscriptionMessage;
import io.reel.transport.WireFormat;
import io.rsocket.Payload;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The batching of a catch-up when the source delivers on its own thread, racing the drain: every round must
 * send the whole catch-up as one batch and then the caught-up signal, never a short batch first.
 */
class BatchingFluxTest {
    private static final int ROUNDS = 2_000;
    private static final int EVENTS = 5;

    private final Scheduler source = Schedulers.newSingle("test-source");
    private final Scheduler transport = Schedulers.newParallel("test-transport", 2);

    @AfterEach
    void disposeSchedulers() {
        source.dispose();
        transport.dispose();
    }

    @Test
    void aCatchUpGoesOutAsFullBatchesBeforeItsCaughtUpSignalWhateverTheTiming() {
        for (int round = 0; round < ROUNDS; round++) {
            long roundSpinNanos = round % 50 * 1_000L; // from none to 49 µs between messages: a reader reading a log
            Flux<SubscriptionMessage> catchUp = Flux.range(0, EVENTS)
                .<SubscriptionMessage>map(position -> new SubscriptionMessage.Event(record(position)))
                .doOnNext(message -> spin(roundSpinNanos))
                .concatWithValues(new SubscriptionMessage.CaughtUp(EVENTS))
                .subscribeOn(source);
            List<SubscriptionItem> items = new BatchingFlux(catchUp, WireFormat.PROTOBUF, 100, 1024 * 1024, true, transport)
                .map(BatchingFluxTest::item)
                .collectList()
                .block(Duration.ofSeconds(10));

            assertThat(items).as("round %d", round).hasSize(2);
            assertThat(items.get(0).getBatch().getRecordsCount()).as("round %d", round).isEqualTo(EVENTS);
            assertThat(items.get(1).getCaughtUp()).as("round %d", round).isEqualTo(EVENTS);
        }
    }

    @Test
    void aCatchUpAskedForInStepsStillGoesOutInFullBatches() {
        // the byte budget asks the source for a few records at a time, and the source answers each ask on its own thread
        // at once: that all asked for has arrived must not read as the end of the catch-up
        for (int round = 0; round < 100; round++) {
            Flux<SubscriptionMessage> catchUp = Flux.range(0, 1000)
                .<SubscriptionMessage>map(position -> new SubscriptionMessage.Event(record(position)))
                .concatWithValues(new SubscriptionMessage.CaughtUp(1000))
                .subscribeOn(source);
            List<Integer> sizes = new BatchingFlux(catchUp, WireFormat.PROTOBUF, 400, 1024 * 1024, false, transport)
                .map(payload -> {
                    try {
                        return io.reel.proto.EventBatch.parseFrom(payload.getData()).getRecordsCount();
                    } catch (InvalidProtocolBufferException e) {
                        throw new AssertionError(e);
                    } finally {
                        payload.release();
                    }
                })
                .collectList()
                .block(Duration.ofSeconds(10));
            assertThat(sizes).as("round %d", round).containsExactly(400, 400, 200);
        }
    }

    @Test
    void largeEventsAreAskedForByWhatTheByteBudgetHoldsNotByTheBatchSize() {
        java.util.concurrent.atomic.AtomicLong asked = new java.util.concurrent.atomic.AtomicLong();
        com.google.protobuf.ByteString data = com.google.protobuf.ByteString.copyFrom(new byte[100 * 1024]);
        Flux<SubscriptionMessage> reading = Flux.range(0, 100_000)
            .<SubscriptionMessage>map(position -> new SubscriptionMessage.Event(RecordedEvent.fromEncoded(EventRecord.newBuilder()
                .setPosition(position).setStream("s").setType("T").setData(data).build().toByteArray())))
            .doOnRequest(asked::addAndGet)
            .subscribeOn(source);
        // batches of up to 10,000 events and 1 MiB; the client takes one and asks for nothing more
        reactor.test.StepVerifier.create(new BatchingFlux(reading, WireFormat.PROTOBUF, 10_000, 1024 * 1024, false, transport)
                .doOnNext(Payload::release), 1)
            .expectNextCount(1)
            .expectNoEvent(Duration.ofMillis(300))
            .thenCancel()
            .verify(Duration.ofSeconds(10));
        // 2 MiB of buffer is about twenty such events; asked by the batch size it was 20,000 (2 GB)
        assertThat(asked.get()).isLessThanOrEqualTo(100);
    }

    private static void spin(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    private static RecordedEvent record(long position) {
        return RecordedEvent.fromEncoded(EventRecord.newBuilder().setPosition(position).setStream("s").setType("T")
            .build().toByteArray());
    }

    private static SubscriptionItem item(Payload payload) {
        try {
            return SubscriptionItem.parseFrom(payload.getData());
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        } finally {
            payload.release();
        }
    }
}
