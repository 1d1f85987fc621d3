package io.reel.transport;

import io.reel.proto.AppendBatch;
import io.reel.proto.AppendBatchResult;
import io.reel.proto.AppendOutcome;
import io.reel.proto.AppendRequest;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.store.wire.ProtoMapping;
import io.reel.transport.internal.AppendEncoding;
import io.reel.transport.internal.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The client's side of {@code append.batch}: coalesces the appends made on one {@link ReelClient} into as few
 * round trips as they allow, without a timer.
 *
 * <p>An append is queued; when no batch is on its way it is sent at once (alone, if it is alone: an idle
 * client pays no delay). At most {@value #MAX_IN_FLIGHT} batches are on their way at once, so that the
 * server's writer forces one while the next ones already wait for it, and an append rarely waits in the client
 * for a batch to be answered (four rather than two: 64 callers measured 1–8% more appends/s and a lower p50 in
 * three of three pairs of runs; eight was no better); beyond that, appends pile up, and the
 * moment an answer arrives everything queued is sent as the next batch, up to
 * {@link ClientSettings#maxAppendBatch()} appends and {@link #maxBatchBytes} bytes (so a batch stays well under
 * the frame limit; an append larger than that goes alone). So concurrent callers share round trips, and the
 * batch size follows the load by itself.
 *
 * <p>Order per stream: appends to one stream are written in the order they were made, also when a lost
 * connection makes batches be sent again, because a batch never holds a stream that a batch on its way holds:
 * the second batch stops before the first append whose stream is in flight, which then waits for its turn.
 *
 * <p>Each append keeps its own outcome: the batch's answer holds one per append, in order, and each caller's
 * {@code Mono} completes with its {@code AppendResult} or fails with the error the {@code append} route would
 * have sent. A failure of the batch as a whole (lost connection past retrying, timeout, a frame the server
 * refused) fails every append in it. A lost connection is retried over the next one as the {@code append}
 * route is ({@code ReelClient.call}): resending a batch is safe because every append's event ids make it
 * idempotent. A caller that cancels before its append was sent takes it out of the next batch; after that, the
 * append may or may not be written, as with a cancelled request.
 *
 * <p>Bounded: at most {@link #MAX_QUEUED} appends or {@link #MAX_QUEUED_BYTES} bytes wait to be sent; beyond
 * that an append fails at once with {@code OVERLOADED}. A server that does not know {@code append.batch}
 * (an older one) is detected by its {@code NOT_FOUND} answer, after which every append goes on the plain
 * {@code append} route. Thread-safe and lock-free: whichever thread queues an append or receives an answer
 * sends the next batch.
 */
final class AppendCoalescer {
    static final int MAX_QUEUED = 65_536;
    static final long MAX_QUEUED_BYTES = 64L << 20;
    static final int MAX_IN_FLIGHT = 4;

    private final ReelClient client;
    private final int maxAppends;
    private final int maxBatchBytes;
    private final long timeoutNanos;
    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedCount = new AtomicInteger();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    /** Batches answered since the last {@link #drain()}, which takes their streams out of {@link #flying}. */
    private final ConcurrentLinkedQueue<List<Pending>> landed = new ConcurrentLinkedQueue<>();
    /** Drain only: each stream a batch on its way holds, and that batch. */
    private final java.util.Map<String, List<Pending>> flying = new java.util.HashMap<>();
    /** Drain only: the batches on their way. */
    private int flights;
    private volatile boolean batchRoute = true;
    /** Taken from the queue but left for the next batch (it did not fit); drain only. */
    private Pending carry;

    /** One append waiting for its outcome: encoded (protobuf), or as a message (JSON). */
    private static final class Pending {
        final String stream;
        final byte[] encoded;
        final AppendRequest request;
        final MonoSink<AppendResult> sink;
        final int bytes;
        final long deadlineNanos;
        volatile boolean cancelled;

        Pending(String stream, byte[] encoded, AppendRequest request, MonoSink<AppendResult> sink, int bytes, long deadlineNanos) {
            this.stream = stream;
            this.encoded = encoded;
            this.request = request;
            this.sink = sink;
            this.bytes = bytes;
            this.deadlineNanos = deadlineNanos;
        }
    }

    AppendCoalescer(ReelClient client) {
        this.client = client;
        this.maxAppends = client.settings().maxAppendBatch();
        this.maxBatchBytes = Math.min(client.settings().maxFrameSize() / 4, 4 << 20);
        this.timeoutNanos = client.settings().requestTimeout().toNanos();
    }

    /** Queues an append to {@code stream}: {@code encoded} by {@link AppendEncoding} (protobuf), or {@code request} (JSON). */
    Mono<AppendResult> append(String stream, byte[] encoded, AppendRequest request) {
        return Mono.create(sink -> {
            // what it adds to the request or to the answer, whichever is larger: a batch within maxBatchBytes fits both
            int bytes = Math.max(encoded != null ? AppendEncoding.batchedSize(encoded) : 2 * request.getSerializedSize() + 256,
                AppendEncoding.outcomeBound(stream));
            Pending p = new Pending(stream, encoded, request, sink, bytes, System.nanoTime() + timeoutNanos);
            sink.onCancel(() -> p.cancelled = true);
            int count = queuedCount.incrementAndGet();
            long total = queuedBytes.addAndGet(bytes);
            if (count > MAX_QUEUED || (total > MAX_QUEUED_BYTES && count > 1)) {
                queuedCount.decrementAndGet();
                queuedBytes.addAndGet(-bytes);
                sink.error(new ReelException(ErrorCode.OVERLOADED, (count - 1) + " appends (" + (total - bytes) + " bytes) are waiting to be"
                    + " sent to " + client.settings() + ", the most this client holds; the server answers slower than they come,"
                    + " retry after a short pause"));
                return;
            }
            queue.offer(p);
            drain();
        });
    }

    /** Sends the next batch unless one is on its way; runs on one thread at a time, re-run for what came meanwhile. */
    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        drainHolding();
    }

    /** The drain's loop, by the thread whose increment of {@link #wip} found it zero. */
    private void drainHolding() {
        int missed = 1;
        do {
            for (List<Pending> batch = landed.poll(); batch != null; batch = landed.poll()) {
                for (Pending p : batch) {
                    flying.remove(p.stream, batch);
                }
                flights--;
            }
            while (flights < MAX_IN_FLIGHT) {
                List<Pending> batch = take();
                if (batch.isEmpty()) {
                    break;
                }
                flights++;
                send(batch);
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    /**
     * The next batch: the appends queued now, within the bounds, up to the first one to a stream that another
     * batch on its way holds; cancelled ones are dropped. The batch's streams are {@link #flying} from now on.
     */
    private List<Pending> take() {
        List<Pending> batch = new ArrayList<>(Math.min(maxAppends, Math.max(1, queuedCount.get())));
        long bytes = 0;
        long now = System.nanoTime();
        while (batch.size() < maxAppends) {
            Pending p = carry != null ? carry : queue.poll();
            carry = null;
            if (p == null) {
                break;
            }
            if (p.cancelled) {
                dequeued(p);
                continue;
            }
            if (now - p.deadlineNanos > 0) {
                // waited its whole requestTimeout behind batches that were slow to be answered
                dequeued(p);
                p.sink.error(client.timedOut(Route.APPEND));
                continue;
            }
            List<Pending> holder = flying.get(p.stream);
            if ((!batch.isEmpty() && bytes + p.bytes > maxBatchBytes) || (holder != null && holder != batch)) {
                carry = p;
                break;
            }
            dequeued(p);
            batch.add(p);
            flying.put(p.stream, batch);
            bytes += p.bytes;
        }
        return batch;
    }

    private void dequeued(Pending p) {
        queuedCount.decrementAndGet();
        queuedBytes.addAndGet(-p.bytes);
    }

    private void send(List<Pending> batch) {
        if (!batchRoute) {
            // one request per append; the batch lands (its streams and its slot free) once all are answered, so the
            // order per stream and the bound on what is on its way hold as with append.batch
            java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(batch.size());
            for (Pending p : batch) {
                client.plainAppend(p.encoded, p.request).doFinally(signal -> {
                    if (left.decrementAndGet() == 0) {
                        answered(batch);
                    }
                }).subscribe(p.sink::success, p.sink::error);
            }
            return;
        }
        Mono<Object[]> answer;
        if (batch.get(0).encoded != null) {
            List<byte[]> requests = new ArrayList<>(batch.size());
            for (Pending p : batch) {
                requests.add(p.encoded);
            }
            answer = client.callEncoded(Route.APPEND_BATCH, () -> AppendEncoding.batch(requests), AppendCoalescer::outcomes);
        } else {
            AppendBatch.Builder message = AppendBatch.newBuilder();
            for (Pending p : batch) {
                message.addAppends(p.request);
            }
            answer = client.call(Route.APPEND_BATCH, message.build(), AppendBatchResult.getDefaultInstance()).map(AppendCoalescer::outcomes);
        }
        answer.subscribe(outcomes -> complete(batch, outcomes), error -> failed(batch, error));
    }

    private static Object[] outcomes(io.netty.buffer.ByteBuf data) {
        try {
            return AppendEncoding.decodeOutcomes(data);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw io.reel.transport.internal.MessageCodec.notValid(WireFormat.PROTOBUF, "the answer to " + Route.APPEND_BATCH.routeName,
                AppendBatchResult.getDescriptor(), e);
        }
    }

    private static Object[] outcomes(AppendBatchResult result) {
        Object[] outcomes = new Object[result.getOutcomesCount()];
        for (int i = 0; i < outcomes.length; i++) {
            AppendOutcome o = result.getOutcomes(i);
            outcomes[i] = o.hasResult() ? ProtoMapping.fromProto(o.getResult()) : ProtoMapping.fromProto(o.getError());
        }
        return outcomes;
    }

    /**
     * Completes each append of an answered batch, then sends what queued meanwhile: callers that append again as
     * soon as they are answered (most do) then share the next batch. Sending is held off while they are answered:
     * else, with fewer than {@value #MAX_IN_FLIGHT} batches on their way, the first few of them would go out alone,
     * the server would force those while the rest arrive, and the rest would wait a whole force more (forty callers
     * answered together went out as three single appends and one batch of thirty-seven: AppendCoalescingTest).
     */
    private void complete(List<Pending> batch, Object[] outcomes) {
        if (outcomes.length != batch.size()) {
            answered(batch);
            fail(batch, new ReelException(ErrorCode.INTERNAL, "the server answered an append.batch of " + batch.size() + " appends with "
                + outcomes.length + " outcomes"));
            return;
        }
        // take the drain's turn (or, when another thread has it, make it look again once done): appends made by the
        // callers answered below only queue, and go out together when the turn is released
        boolean holding = wip.getAndIncrement() == 0;
        try {
            for (int i = 0; i < batch.size(); i++) {
                MonoSink<AppendResult> sink = batch.get(i).sink;
                if (outcomes[i] instanceof AppendResult r) {
                    sink.success(r);
                } else {
                    sink.error((Throwable) outcomes[i]);
                }
            }
        } finally {
            if (holding) {
                landed.offer(batch);
                drainHolding();
            } else {
                answered(batch);   // the other thread may have finished its loop before the batch landed
            }
        }
    }

    private void failed(List<Pending> batch, Throwable error) {
        if (error instanceof ReelException e && e.code() == ErrorCode.NOT_FOUND && e.getMessage().contains("'" + Route.APPEND_BATCH.routeName + "'")) {
            // a server from before append.batch: send these and every later append on the plain route
            batchRoute = false;
            send(batch);
            return;
        }
        answered(batch);
        fail(batch, error);
    }

    private static void fail(List<Pending> batch, Throwable error) {
        for (Pending p : batch) {
            p.sink.error(error);
        }
    }

    /** A batch on its way is answered: send what queued up meanwhile. */
    private void answered(List<Pending> batch) {
        landed.offer(batch);
        drain();
    }
}
