package io.reel.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.rsocket.Payload;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxOperator;
import reactor.core.publisher.Operators;

/**
 * Holds a connection's streams back while its socket cannot take more bytes. A client that asks for
 * {@code Long.MAX_VALUE} records and then stops reading would otherwise make the server read the whole log into
 * memory: rsocket-java queues every frame a stream emits (its send queue is unbounded) and Reactor Netty only
 * stops draining that queue into the socket. With the gate, a stream's demand reaches the store in chunks of about
 * {@value #CHUNK_BYTES} bytes of payloads, and the next chunk only while Netty calls the channel writable (below
 * its high-water mark, 64 KiB by default) and the payloads passed on but not yet written to the channel are fewer
 * than {@value #UNSENT_LIMIT} bytes; the gate itself holds no payload. The second bound matters when the streams
 * emit faster than the event loop drains rsocket-java's queue into the channel: the channel then stays writable
 * while that queue grows. While the channel is not writable the server also reads no more of the connection's
 * requests.
 *
 * <p>Added first to each connection's pipeline, where it learns of writability changes on the event loop and sees
 * every byte written to the socket.
 * rsocket-java hands the responder no connection, but calls it while the request's frame is being read, on the
 * event loop: the gate names itself the one {@link #reading()} for the duration of each read.
 */
public final class WritabilityGate extends ChannelDuplexHandler {
    /** What a paced stream may have asked for and not yet passed on, in bytes of payloads (estimated). */
    static final int CHUNK_BYTES = 256 * 1024;
    /** Bytes of payloads the connection's paced streams may have passed on that have not reached the channel. */
    static final int UNSENT_LIMIT = 1024 * 1024;
    private static final int MAX_CHUNK = 1024;
    private static final ThreadLocal<WritabilityGate> READING = new ThreadLocal<>();

    private final Channel channel;
    /** Paced streams that have demand but wait for the socket. */
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();
    /**
     * Bytes the paced streams passed on less the bytes written to the channel since, never below zero: other frames
     * (answers, keep-alives, frame headers) count as written too, so the estimate errs towards letting streams on,
     * and it cannot drift into a debt that would hold them for good.
     */
    private final AtomicLong unsent = new AtomicLong();

    public WritabilityGate(Channel channel) {
        this.channel = channel;
    }

    /** The gate of the connection whose bytes this thread is reading now, or null outside a read. */
    public static WritabilityGate reading() {
        return READING.get();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        READING.set(this);
        try {
            ctx.fireChannelRead(msg);
        } finally {
            READING.remove();
        }
    }

    /**
     * Also stops reading the connection's requests while its answers cannot leave: a client that sends and does
     * not read would otherwise have the server queue an answer per request without end (Kafka mutes such a
     * channel the same way). The client's own sends then wait in its socket.
     */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        wake();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        long bytes = msg instanceof ByteBuf b ? b.readableBytes() : msg instanceof ByteBufHolder h ? h.content().readableBytes() : 0;
        // written first: a stream woken below may emit at once, and its frames must follow this one
        super.write(ctx, msg, promise);
        long before = unsent.get();
        while (bytes > 0 && before > 0 && !unsent.compareAndSet(before, Math.max(0, before - bytes))) {
            before = unsent.get();
        }
        if (bytes > 0 && before > UNSENT_LIMIT / 2 && before - bytes <= UNSENT_LIMIT / 2) {
            wake();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        wake();
        super.channelInactive(ctx);
    }

    /** {@code stream} with its subscriber's demand passed on in chunks, and only while the socket takes bytes. */
    Flux<Payload> pace(Flux<Payload> stream) {
        return new FluxOperator<>(stream) {
            @Override
            public void subscribe(CoreSubscriber<? super Payload> actual) {
                source.subscribe(new Pacer(actual));
            }
        };
    }

    private boolean open() {
        return (channel.isWritable() && unsent.get() <= UNSENT_LIMIT) || !channel.isActive();
    }

    private void wake() {
        for (Runnable r = null; open() && (r = waiting.poll()) != null; ) {
            r.run();
        }
    }

    /**
     * Passes items through untouched; only the demand is shaped. At most {@code chunk} items are asked of the
     * source and not yet received; more are asked once half have arrived, if the socket is writable, else when it
     * becomes so. {@code chunk} follows the payloads' size: ~{@value #CHUNK_BYTES} bytes' worth, 1 to {@value #MAX_CHUNK}.
     */
    private final class Pacer implements CoreSubscriber<Payload>, Subscription {
        private final CoreSubscriber<? super Payload> actual;
        private final AtomicLong requested = new AtomicLong();
        private final AtomicLong outstanding = new AtomicLong();
        private final AtomicInteger wip = new AtomicInteger();
        private final AtomicBoolean parked = new AtomicBoolean();
        private final Runnable resume = () -> {
            parked.set(false);
            pull();
        };
        private Subscription upstream;
        private volatile boolean cancelled;
        private volatile long averageBytes = 1024;

        Pacer(CoreSubscriber<? super Payload> actual) {
            this.actual = actual;
        }

        @Override
        public reactor.util.context.Context currentContext() {
            return actual.currentContext();
        }

        @Override
        public void onSubscribe(Subscription s) {
            if (Operators.validate(upstream, s)) {
                upstream = s;
                actual.onSubscribe(this);
            }
        }

        @Override
        public void onNext(Payload payload) {
            long bytes = payload.data().readableBytes() + (payload.hasMetadata() ? payload.metadata().readableBytes() : 0);
            averageBytes += (bytes - averageBytes) / 8;
            unsent.addAndGet(bytes);
            outstanding.decrementAndGet();
            actual.onNext(payload);
            pull();
        }

        @Override
        public void onError(Throwable t) {
            actual.onError(t);
        }

        @Override
        public void onComplete() {
            actual.onComplete();
        }

        @Override
        public void request(long n) {
            if (Operators.validate(n)) {
                requested.accumulateAndGet(n, Operators::addCap);
                pull();
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            upstream.cancel();
        }

        private void pull() {
            if (wip.getAndIncrement() != 0) {
                return;
            }
            int missed = 1;
            do {
                long chunk = Math.max(1, Math.min(MAX_CHUNK, CHUNK_BYTES / Math.max(1, averageBytes)));
                long out = outstanding.get();
                long wanted = requested.get();
                if (!cancelled && wanted > 0 && out <= chunk / 2) {
                    if (open()) {
                        long take = Math.min(wanted, chunk - out);
                        if (wanted != Long.MAX_VALUE) {
                            requested.addAndGet(-take);
                        }
                        outstanding.addAndGet(take);
                        upstream.request(take);
                    } else if (parked.compareAndSet(false, true)) {
                        waiting.add(resume);
                        if (open()) {
                            wake();
                        }
                    }
                }
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }
    }
}
