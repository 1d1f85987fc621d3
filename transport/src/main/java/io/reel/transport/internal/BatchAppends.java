package io.reel.transport.internal;

import io.reel.proto.AppendBatch;
import io.reel.proto.AppendBatchResult;
import io.reel.proto.AppendOutcome;
import io.reel.proto.AppendRequest;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventStore;
import io.reel.store.ReelException;
import io.reel.store.wire.ProtoMapping;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
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
 * subscribed by a small subscriber that writes its slot and counts down. Over protobuf the request is read and
 * the answer written by {@link AppendEncoding}, without the generated messages; over JSON through them.
 */
final class BatchAppends {
    private BatchAppends() {
    }

    /**
     * The appends of a batch that came as a message (JSON), as {@link AppendEncoding#decodeBatch} gives those of
     * a protobuf one: each an {@link AppendEncoding.Append} or the exception its checks failed with.
     */
    static List<Object> appendsOf(AppendBatch batch, int maxAppends, int maxEventsPerAppend) {
        if (batch.getAppendsCount() > maxAppends) {
            throw AppendEncoding.tooManyAppends(maxAppends);
        }
        List<Object> appends = new ArrayList<>(batch.getAppendsCount());
        for (AppendRequest r : batch.getAppendsList()) {
            try {
                appends.add(new AppendEncoding.Append(r.getStream(), ConnectionResponder.expected(
                    r.getExpectedCase() == AppendRequest.ExpectedCase.REVISION, r.getRevision(), r.getExpectation()),
                    ConnectionResponder.events(r, maxEventsPerAppend)));
            } catch (ReelException e) {
                appends.add(e);
            }
        }
        return appends;
    }

    /**
     * Submits every append of {@code appends} (see {@link #appendsOf}); the {@code Mono} completes with their
     * outcomes in order, each an {@link AppendResult} or the {@link Throwable} it failed with.
     */
    static Mono<Object[]> serve(ServerContext server, List<Object> appends) {
        int n = appends.size();
        server.metrics().appendBatch.record(n);
        if (n == 0) {
            return Mono.just(new Object[0]);
        }
        long answer = answerBound(appends);
        if (answer > server.settings().maxFrameSize()) {
            // refused before anything is written: an answer over the frame limit could not be sent, and the caller
            // would not learn which of its appends were written
            server.metrics().rejected(ErrorCode.TOO_LARGE);
            return Mono.error(new ReelException(ErrorCode.TOO_LARGE, "the answer to this append.batch of " + n + " appends could take up to "
                + answer + " bytes, above the frame limit of " + server.settings().maxFrameSize() + " bytes; send fewer appends per batch"));
        }
        return Mono.create(sink -> {
            Outcomes outcomes = new Outcomes(server, n, sink);
            if (server.settings().replication() != null) {
                // a cluster node forwards them to the cluster: its writer takes them as entries are applied
                outcomes.submitAll(appends);
            } else {
                // one commit for the request's appends, not the first few alone (EventStore.together)
                server.store().together(() -> outcomes.submitAll(appends));
            }
        });
    }

    /**
     * The most bytes the answer to {@code appends} can take, in either format: per append its
     * {@link AppendEncoding#outcomeBound}, or the sentence its checks already failed with.
     */
    static long answerBound(List<Object> appends) {
        long bytes = 64;
        for (Object item : appends) {
            bytes += item instanceof AppendEncoding.Append a ? AppendEncoding.outcomeBound(a.stream())
                : 3L * String.valueOf(((Throwable) item).getMessage()).length() + 128;
        }
        return bytes;
    }

    /** The {@code AppendBatchResult} message of {@code outcomes} (for JSON; protobuf is written by {@link AppendEncoding#encodeOutcomes}). */
    static AppendBatchResult message(Object[] outcomes) {
        AppendBatchResult.Builder b = AppendBatchResult.newBuilder();
        for (Object o : outcomes) {
            AppendOutcome.Builder outcome = b.addOutcomesBuilder();
            if (o instanceof AppendResult r) {
                outcome.setResult(ProtoMapping.toProto(r));
            } else {
                outcome.setError(error((Throwable) o));
            }
        }
        return b.build();
    }

    /** The outcomes of one batch as they complete, on whichever threads complete them. */
    private static final class Outcomes {
        private final ServerContext server;
        private final Object[] slots;
        private final AtomicInteger remaining;
        private final MonoSink<Object[]> sink;

        Outcomes(ServerContext server, int n, MonoSink<Object[]> sink) {
            this.server = server;
            this.slots = new Object[n];
            this.remaining = new AtomicInteger(n);
            this.sink = sink;
        }

        void submitAll(List<Object> appends) {
            EventStore store = server.store();
            // a cluster node's writes go through the cluster, never straight to its store
            io.reel.transport.Replication cluster = server.settings().replication();
            for (int i = 0; i < appends.size(); i++) {
                Object item = appends.get(i);
                if (item instanceof ReelException invalid) {
                    server.metrics().rejected(invalid.code());
                    done(i, invalid);
                    continue;
                }
                AppendEncoding.Append a = (AppendEncoding.Append) item;
                Mono<AppendResult> append;
                try {
                    append = cluster != null ? cluster.append(a.stream(), a.expected(), a.events())
                        : store.append(a.stream(), a.expected(), a.events());
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

        /** Each slot is written once, before the count down that publishes it to the thread that sees the count reach 0. */
        void done(int index, Object outcome) {
            slots[index] = outcome;
            if (remaining.decrementAndGet() == 0) {
                sink.success(slots);
            }
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
