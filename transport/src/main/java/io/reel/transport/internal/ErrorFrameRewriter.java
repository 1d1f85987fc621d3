package io.reel.transport.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.reel.store.ErrorCode;
import io.reel.transport.ServerSettings;
import io.rsocket.DuplexConnection;
import io.rsocket.RSocketErrorException;
import io.rsocket.exceptions.ApplicationErrorException;
import io.rsocket.frame.ErrorFrameCodec;
import io.rsocket.frame.FrameHeaderCodec;
import io.rsocket.frame.FrameType;
import io.rsocket.plugins.DuplexConnectionInterceptor;
import java.net.SocketAddress;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Keeps rsocket-java's own per-request errors to the wire contract. When a client's fragmented request
 * grows past {@link ServerSettings#maxFrameSize()}, rsocket-java fails that request with a {@code CANCELED}
 * frame whose text is its own; this rewrites that frame into an application error
 * {@code "TOO_LARGE: ..."} that names the limit. Every other frame passes untouched (one type check each).
 */
public final class ErrorFrameRewriter implements DuplexConnectionInterceptor {
    private final int maxFrameSize;
    private final TransportMetrics metrics;

    public ErrorFrameRewriter(int maxFrameSize, TransportMetrics metrics) {
        this.maxFrameSize = maxFrameSize;
        this.metrics = metrics;
    }

    @Override
    public DuplexConnection apply(Type type, DuplexConnection connection) {
        return type == Type.SOURCE ? new Rewriting(connection) : connection;
    }

    private final class Rewriting implements DuplexConnection {
        private final DuplexConnection delegate;

        Rewriting(DuplexConnection delegate) {
            this.delegate = delegate;
        }

        @Override
        public void sendFrame(int streamId, ByteBuf frame) {
            if (streamId != 0 && FrameHeaderCodec.frameType(frame) == FrameType.ERROR
                && ErrorFrameCodec.errorCode(frame) == ErrorFrameCodec.CANCELED
                && ErrorFrameCodec.dataUtf8(frame).startsWith("Failed to reassemble payload")) {
                frame.release();
                metrics.rejected(ErrorCode.TOO_LARGE);
                frame = ErrorFrameCodec.encode(delegate.alloc(), streamId, new ApplicationErrorException(ErrorCode.TOO_LARGE
                    + ": the request is larger than this server's limit of " + maxFrameSize + " bytes (maxFrameSize); send less at once"));
            }
            delegate.sendFrame(streamId, frame);
        }

        @Override
        public void sendErrorAndClose(RSocketErrorException e) {
            delegate.sendErrorAndClose(e);
        }

        @Override
        public Flux<ByteBuf> receive() {
            return delegate.receive();
        }

        @Override
        public ByteBufAllocator alloc() {
            return delegate.alloc();
        }

        @Override
        public SocketAddress remoteAddress() {
            return delegate.remoteAddress();
        }

        @Override
        public Mono<Void> onClose() {
            return delegate.onClose();
        }

        @Override
        public void dispose() {
            delegate.dispose();
        }

        @Override
        public boolean isDisposed() {
            return delegate.isDisposed();
        }

        @Override
        public double availability() {
            return delegate.availability();
        }
    }
}
