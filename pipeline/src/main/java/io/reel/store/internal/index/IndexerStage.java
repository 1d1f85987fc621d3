package io.reel.store.internal.index;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import io.reel.store.SubscriptionMessage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The Indexer stage: a subscriber of the log, off the write path, that keeps the {@link StreamIndex}.
 *
 * <p>It is an ordinary subscription from the index's checkpoint, requesting {@value #PREFETCH} records at a
 * time: it reads new records from the recent-records cache as they commit, and if it ever falls behind it
 * catches up from the files, so the writer never waits for it. Reads that need the index (stream reads,
 * metadata) first wait, without blocking a thread, until it has indexed the head they saw: an acknowledged
 * append is always visible to the next read. It writes the index checkpoint every
 * {@link StoreSettings#indexCheckpointEvents()} records and on close, so a restart replays only the tail.
 */
public final class IndexerStage implements CoreSubscriber<SubscriptionMessage>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IndexerStage.class);
    private static final int PREFETCH = 4096;

    private final Path indexDir;
    private final StreamIndex index;
    private final long checkpointEvery;
    private final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    private final long replayFrom;
    private volatile Subscription upstream;
    private volatile Throwable failure;
    private long sinceRequest;
    private long sinceCheckpoint;

    private record Waiter(long position, MonoSink<Void> sink) {
    }

    private IndexerStage(Path indexDir, StreamIndex index, long checkpointEvery) {
        this.indexDir = indexDir;
        this.index = index;
        this.checkpointEvery = checkpointEvery;
        this.replayFrom = index.indexedUpTo();
    }

    /** Loads the index checkpoint when it is usable for a log whose head is {@code head}, else starts empty. */
    public static IndexerStage load(Path indexDir, long head, long checkpointEvery) throws IOException {
        StreamIndex index = StreamIndex.loadCheckpoint(indexDir);
        if (index == null) {
            if (indexDir.resolve(StreamIndex.CHECKPOINT_FILE).toFile().exists()) {
                LOG.warn("the stream index checkpoint in {} failed its checks; rebuilding the index from the log", indexDir);
            }
            index = new StreamIndex();
        } else if (index.indexedUpTo() > head) {
            LOG.warn("the stream index checkpoint covers positions up to {} but the log ends at {}; rebuilding it from the log",
                index.indexedUpTo(), head);
            index = new StreamIndex();
        }
        return new IndexerStage(indexDir, index, checkpointEvery);
    }

    public StreamIndex index() {
        return index;
    }

    /** Where the indexer started replaying the log on open: the checkpoint's position. */
    public long replayedFrom() {
        return replayFrom;
    }

    @Override
    public void onSubscribe(Subscription s) {
        upstream = s;
        s.request(PREFETCH);
    }

    @Override
    public void onNext(SubscriptionMessage message) {
        if (message instanceof SubscriptionMessage.Event event) {
            index.apply(event.event());
            if (++sinceCheckpoint >= checkpointEvery) {
                writeCheckpoint();
            }
        } else {
            index.advanceTo(message.nextPosition());
        }
        if (!waiters.isEmpty()) {
            releaseWaiters();
        }
        if (++sinceRequest == PREFETCH / 2) {
            sinceRequest = 0;
            upstream.request(PREFETCH / 2);
        }
    }

    @Override
    public void onError(Throwable t) {
        failure = t;
        if (!(t instanceof ReelException r && r.code() == ErrorCode.CLOSED)) {
            LOG.error("the indexer stopped: {}", t.toString());
        }
        Waiter w;
        while ((w = waiters.poll()) != null) {
            w.sink.error(t);
        }
    }

    @Override
    public void onComplete() {
    }

    /** Completes once every record below {@code position} is indexed. */
    public Mono<Void> awaitIndexed(long position) {
        if (index.indexedUpTo() >= position) {
            return Mono.empty();
        }
        return Mono.create(sink -> {
            Throwable t = failure;
            if (t != null) {
                sink.error(t);
                return;
            }
            waiters.add(new Waiter(position, sink));
            if (index.indexedUpTo() >= position) {
                releaseWaiters();
            }
        });
    }

    /**
     * {@code then}, subscribed once every record below {@code position} is indexed; what a read that needs the index
     * (a stream read, the streams' list) returns.
     *
     * <p>Not {@code awaitIndexed(position).thenMany(then)}: {@code thenMany} is a concat, and reactor-core's concat
     * (FluxConcatArray, 3.8.6) can lose a request that races its switch from a first source that completed empty to
     * the next: when that source produced nothing it does not park requests while it switches, so a request read
     * the finished source's subscription, went to it, and the next source was never asked. A subscriber that requests
     * from another thread than the one subscribing hits it, as the server's batching of reads does from its own
     * worker, and the read then waits forever. {@code flatMapMany} keeps such a request until the inner subscription
     * is set, and forwards it then.
     */
    public <T> Flux<T> whenIndexed(long position, Flux<T> then) {
        return awaitIndexed(position).thenReturn(Boolean.TRUE).flatMapMany(indexed -> then);
    }

    /** Blocks the calling thread (opening or closing the store) until the index covers {@code position}. */
    public void awaitIndexedBlocking(long position, Duration timeout) {
        try {
            awaitIndexed(position).block(timeout);
        } catch (RuntimeException e) {
            // reported below from the failure or the position reached
        }
        Throwable f = failure;
        if (f != null && !(f instanceof ReelException r && r.code() == ErrorCode.CLOSED)) {
            throw new ReelException(ErrorCode.CORRUPTED, "indexing the log failed: " + f.getMessage(), f);
        }
        if (index.indexedUpTo() < position) {
            throw new ReelException(ErrorCode.INTERNAL, "indexing the log did not reach position " + position + " within " + timeout);
        }
    }

    private void releaseWaiters() {
        long indexed = index.indexedUpTo();
        Iterator<Waiter> it = waiters.iterator();
        while (it.hasNext()) {
            Waiter w = it.next();
            if (w.position <= indexed) {
                it.remove();
                w.sink.success();
            }
        }
    }

    /**
     * Synchronized: the indexer's periodic checkpoint and the one {@link #close(long)} writes share the
     * temporary file, and the closing one must be the last to land.
     */
    private synchronized void writeCheckpoint() {
        sinceCheckpoint = 0;
        try {
            index.writeCheckpoint(indexDir);
        } catch (IOException e) {
            LOG.warn("could not write the stream index checkpoint to {}: {}; a restart will replay more of the log", indexDir, e.toString());
        }
    }

    /**
     * Waits for the index to reach {@code head}, stops, and writes the checkpoint (so the next open replays
     * nothing).
     */
    public void close(long head) {
        try {
            awaitIndexedBlocking(head, Duration.ofMinutes(1));
        } catch (ReelException e) {
            LOG.warn("closing the indexer before it reached the head: {}", e.getMessage());
        }
        close();
        writeCheckpoint();
    }

    @Override
    public void close() {
        Subscription s = upstream;
        if (s != null) {
            s.cancel();
        }
    }
}
