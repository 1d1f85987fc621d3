package io.reel.transport.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCounted;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Holds a connection's streams back while its socket cannot take more bytes. A client that asks for
 * {@code Long.MAX_VALUE} records and then stops reading would otherwise make the server read the whole log into
 * memory: rsocket-java queues every frame a stream emits (its send queue is unbounded) and Reactor Netty only
 * stops draining that queue into the socket. With the gate, a stream emits its next payload only while Netty
 * calls the channel writable (below its high-water mark, 64 KiB by default), so what a stalled client costs the
 * server is a few payloads per stream; and while it is not writable the server reads no more of its requests. Added first to each connection's pipeline, where it learns of writability
 * changes on the event loop.
 *
 * <p>rsocket-java hands its acceptor no connection, but calls it while the connection's SETUP frame is being read,
 * on the event loop: the gate names itself the one {@link #reading()} for the duration of each read.
 */
public final class WritabilityGate extends ChannelInboundHandlerAdapter {
    /** Payloads a stream may have decoded ahead of the gate: an upper bound of what it holds when paused. */
    private static final int AHEAD = 4;

    private static final ThreadLocal<WritabilityGate> READING = new ThreadLocal<>();

    private final Channel channel;
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

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

    /** {@code stream}, each payload passed on only while the socket takes bytes (or is closed: then nothing waits). */
    <T extends ReferenceCounted> Flux<T> pace(Flux<T> stream) {
        return stream.concatMap(this::admit, AHEAD).doOnDiscard(ReferenceCounted.class, WritabilityGate::release);
    }

    private <T> Mono<T> admit(T item) {
        if (open()) {
            return Mono.just(item);
        }
        return Mono.create(sink -> {
            waiting.add(() -> sink.success(item));
            if (open()) {
                wake();
            }
        });
    }

    private boolean open() {
        return channel.isWritable() || !channel.isActive();
    }

    private void wake() {
        for (Runnable r = waiting.poll(); r != null; r = waiting.poll()) {
            r.run();
        }
    }

    /**
     * Also stops reading the connection's requests while its answers cannot leave: a client that sends and does
     * not read would otherwise have the server queue an answer per request without end (Kafka mutes such a
     * channel the same way). The client's own sends then wait in its socket.
     */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        boolean writable = ctx.channel().isWritable();
        ctx.channel().config().setAutoRead(writable);
        if (open()) {
            wake();
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        wake();
        super.channelInactive(ctx);
    }

    private static void release(ReferenceCounted item) {
        if (item.refCnt() > 0) {
            item.release();
        }
    }
}
