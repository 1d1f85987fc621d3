package io.reel.transport.cluster;

import io.reel.proto.AppendBatchResult;
import io.reel.proto.ClusterEntry;
import io.reel.proto.ClusterWrite;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Gathers the writes a node receives into Raft entries: one entry carries every write waiting when it
 * leaves (up to {@code maxWrites} and {@code maxBytes}), and at most {@code maxInFlight} entries are in
 * flight at once, so that writes arriving while entries are replicated form the next one. Nothing waits on
 * a timer: a lone write leaves at once.
 *
 * <p>The queue is bounded ({@code capacity} writes): a full one fails a write at once with
 * {@code OVERLOADED}. Thread-safe; sends run on the caller's or the completing entry's thread.
 */
final class EntryGatherer {
    private record Pending(ClusterWrite write, int bytes, MonoSink<AppendResult> sink) {
    }

    private final Function<ClusterEntry, CompletableFuture<AppendBatchResult>> send;
    private final LongSupplier clockMicros;
    private final int maxWrites;
    private final int maxBytes;
    private final int maxInFlight;
    private final int capacity;
    private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile Pending carried;

    EntryGatherer(Function<ClusterEntry, CompletableFuture<AppendBatchResult>> send, LongSupplier clockMicros, int maxWrites, int maxBytes,
                  int maxInFlight, int capacity) {
        this.send = send;
        this.clockMicros = clockMicros;
        this.maxWrites = maxWrites;
        this.maxBytes = maxBytes;
        this.maxInFlight = maxInFlight;
        this.capacity = capacity;
    }

    Mono<AppendResult> submit(ClusterWrite write) {
        return Mono.create(sink -> {
            if (queued.incrementAndGet() > capacity) {
                queued.decrementAndGet();
                sink.error(new ReelException(ErrorCode.OVERLOADED, "this node already has " + capacity
                    + " writes waiting to be replicated; retry later"));
                return;
            }
            queue.offer(new Pending(write, write.getSerializedSize(), sink));
            drain();
        });
    }

    /** Writes waiting for an entry. */
    int queued() {
        return queued.get();
    }

    private void drain() {
        while (true) {
            int now = inFlight.get();
            if (now >= maxInFlight) {
                return;
            }
            if (!inFlight.compareAndSet(now, now + 1)) {
                continue;
            }
            List<Pending> taken = take();
            if (taken.isEmpty()) {
                inFlight.decrementAndGet();
                if (queue.isEmpty()) {
                    return;
                }
                continue;
            }
            ClusterEntry.Builder entry = ClusterEntry.newBuilder().setTimestampMicros(clockMicros.getAsLong());
            taken.forEach(p -> entry.addWrites(p.write()));
            CompletableFuture<AppendBatchResult> reply;
            try {
                reply = send.apply(entry.build());
            } catch (RuntimeException e) {
                reply = CompletableFuture.failedFuture(e);
            }
            reply.whenComplete((result, error) -> {
                inFlight.decrementAndGet();
                complete(taken, result, error);
                drain();
            });
        }
    }

    private synchronized List<Pending> take() {
        List<Pending> taken = new ArrayList<>();
        int bytes = 0;
        Pending p = carried;
        carried = null;
        if (p == null) {
            p = queue.poll();
        }
        while (p != null) {
            if (!taken.isEmpty() && bytes + p.bytes() > maxBytes) {
                carried = p;
                break;
            }
            queued.decrementAndGet();
            taken.add(p);
            bytes += p.bytes();
            if (taken.size() >= maxWrites) {
                break;
            }
            p = queue.poll();
        }
        return taken;
    }

    private static void complete(List<Pending> taken, AppendBatchResult result, Throwable error) {
        for (int i = 0; i < taken.size(); i++) {
            MonoSink<AppendResult> sink = taken.get(i).sink();
            if (error != null) {
                sink.error(unavailable(error));
            } else if (i >= result.getOutcomesCount()) {
                sink.error(new ReelException(ErrorCode.INTERNAL, "the cluster answered " + result.getOutcomesCount()
                    + " outcomes for an entry of " + taken.size() + " writes"));
            } else {
                try {
                    sink.success(Writes.result(result.getOutcomes(i)));
                } catch (ReelException e) {
                    sink.error(e);
                }
            }
        }
    }

    static ReelException unavailable(Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ReelException re) {
            return re;
        }
        return new ReelException(ErrorCode.UNAVAILABLE, "the cluster did not commit the write (" + cause.getClass().getSimpleName()
            + (cause.getMessage() == null ? "" : ": " + cause.getMessage()) + "): no leader or no quorum for now. It may or may not"
            + " have been written; retrying it with the same event ids is safe", cause);
    }
}
