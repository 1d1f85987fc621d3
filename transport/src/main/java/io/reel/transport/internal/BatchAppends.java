package io.reel.transport.internal;

import io.reel.proto.AppendBatch;
import io.reel.proto.AppendBatchResult;
import io.reel.proto.AppendOutcome;
import io.reel.proto.AppendRequest;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.wire.ProtoMapping;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The server's side of {@code append.batch}: many independent appends in one request.
 *
 * <p>Each {@code AppendRequest} of the batch is checked and submitted exactly as the {@code append} route
 * does it (same conversions, same limits, same error codes and sentences), one after the other on the calling
 * thread, so they reach the writer's queue in the order given and are applied in that order: an append with
 * an exact revision may follow one to the same stream earlier in the batch. Each is atomic on its own; one
 * that fails fails only itself and its outcome carries the {@code Error}. The answer is sent when the last
 * outcome is known, which under group commit is usually one writer batch after the request arrived.
 *
 * <p>Allocates one outcome slot per append and no Reactor chain per append: each store {@code Mono} is
 * subscribed by a small subscriber that writes its slot and counts down.
 */
final class BatchAppends {
    private BatchAppends() {
    }

    /** Submits every append of {@code batch}; the {@code Mono} completes with their outcomes in order. */
    static Mono<AppendBatchResult> serve(ServerContext server, AppendBatch batch) {
        int n = batch.getAppendsCount();
        server.metrics().appendBatch.record(n);
        if (n == 0) {
            return Mono.just(AppendBatchResult.getDefaultInstance());
        }
        return Mono.create(sink -> new Outcomes(server, n, sink).submitAll(batch));
    }

    /** The outcomes of one batch as they complete, on whichever threads complete them. */
    private static final class Outcomes {
        private final ServerContext server;
        private final AtomicReferenceArray<Object> slots;
        private final AtomicInteger remaining;
        private final MonoSink<AppendBatchResult> sink;

        Outcomes(ServerContext server, int n, MonoSink<AppendBatchResult> sink) {
            this.server = server;
            this.slots = new AtomicReferenceArray<>(n);
            this.remaining = new AtomicInteger(n);
            this.sink = sink;
        }

        void submitAll(AppendBatch batch) {
            EventStore store = server.store();
            for (int i = 0; i < batch.getAppendsCount(); i++) {
                AppendRequest r = batch.getAppends(i);
                Mono<AppendResult> append;
                try {
                    ExpectedRevision expected = ConnectionResponder.expected(r.getExpectedCase() == AppendRequest.ExpectedCase.REVISION,
                        r.getRevision(), r.getExpectation());
                    List<EventData> events = ConnectionResponder.events(r);
                    // a cluster node's writes go through the cluster, never straight to its store
                    io.reel.transport.Replication cluster = server.settings().replication();
                    append = cluster != null ? cluster.append(r.getStream(), expected, events) : store.append(r.getStream(), expected, events);
                } catch (ReelException e) {
                    server.metrics().rejected(e.code());
                    done(i, e);
                    continue;
                } catch (RuntimeException e) {
                    done(i, e);
                    continue;
                }
                append.subscribe(new Slot(this, i));
            }
        }

        void done(int index, Object outcome) {
            slots.set(index, outcome);
            if (remaining.decrementAndGet() == 0) {
                sink.success(result());
            }
        }

        private AppendBatchResult result() {
            AppendBatchResult.Builder b = AppendBatchResult.newBuilder();
            for (int i = 0; i < slots.length(); i++) {
                Object o = slots.get(i);
                AppendOutcome.Builder outcome = b.addOutcomesBuilder();
                if (o instanceof AppendResult r) {
                    outcome.setResult(ProtoMapping.toProto(r));
                } else {
                    outcome.setError(error((Throwable) o));
                }
            }
            return b.build();
        }
    }

    /** The wire {@code Error} of a failed append: the code and the sentence the {@code append} route would send. */
    static io.reel.proto.Error error(Throwable failure) {
        return ProtoMapping.toProto(failure instanceof ReelException re ? re : WireErrors.parse(WireErrors.text(failure), failure));
    }

    /** Subscribes one append's {@code Mono} and writes its outcome into the batch's slot. */
    private static final class Slot implements CoreSubscriber<AppendResult> {
        private final Outcomes outcomes;
        private final int index;
        private boolean answered;

        Slot(Outcomes outcomes, int index) {
            this.outcomes = outcomes;
            this.index = index;
        }

        @Override
        public void onSubscribe(org.reactivestreams.Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(AppendResult result) {
            answered = true;
            outcomes.done(index, result);
        }

        @Override
        public void onError(Throwable error) {
            if (!answered) {
                answered = true;
                outcomes.done(index, error);
            }
        }

        @Override
        public void onComplete() {
            if (!answered) {
                answered = true;
                outcomes.done(index, new ReelException(ErrorCode.INTERNAL, "the append completed without a result"));
            }
        }
    }
}
