package io.reel.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.transport.ClientTransport;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.transport.netty.client.WebsocketClientTransport;
import io.rsocket.util.DefaultPayload;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.tcp.TcpClient;

/**
 * A plain rsocket-java client that builds its metadata byte by byte, as Spring's {@code RSocketRequester}
 * and rsocket-js put it on the wire, so the tests check the wire contract rather than Reel's own client.
 */
final class RawClient implements AutoCloseable {
    static final String COMPOSITE = "message/x.rsocket.composite-metadata.v0";

    enum Kind { TCP, WEBSOCKET }

    final RSocket rsocket;

    private RawClient(RSocket rsocket) {
        this.rsocket = rsocket;
    }

    static RawClient connect(ReelServer server, Kind kind, String dataMime) {
        return connect(server, kind, dataMime, COMPOSITE, null, 0);
    }

    static RawClient connect(ReelServer server, Kind kind, String dataMime, String metadataMime, byte[] setupMetadata, int mtu) {
        return connect(server, kind, dataMime, metadataMime, setupMetadata, mtu, Duration.ofSeconds(5));
    }

    static RawClient connect(ReelServer server, Kind kind, String dataMime, String metadataMime, byte[] setupMetadata, int mtu,
                             Duration keepAlive) {
        RSocketConnector connector = RSocketConnector.create()
            .dataMimeType(dataMime)
            .metadataMimeType(metadataMime)
            .keepAlive(keepAlive, Duration.ofSeconds(90));
        if (setupMetadata != null) {
            connector.setupPayload(DefaultPayload.create(new byte[0], setupMetadata));
        }
        if (mtu > 0) {
            connector.fragment(mtu);
        }
        return new RawClient(connector.connect(transport(server, kind)).block(Duration.ofSeconds(10)));
    }

    static ClientTransport transport(ReelServer server, Kind kind) {
        InetSocketAddress tcp = server.tcpAddress();
        InetSocketAddress ws = server.webSocketAddress();
        return kind == Kind.TCP
            ? TcpClientTransport.create(TcpClient.create().host(tcp.getHostString()).port(tcp.getPort()))
            : WebsocketClientTransport.create(HttpClient.create().host(ws.getHostString()).port(ws.getPort()), "/rsocket");
    }

    /** Composite metadata with one routing entry: 0xFE (0x80 | 0x7E), u24 length, u8 tag length, tag. */
    static byte[] route(String route) {
        byte[] tag = route.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int length = 1 + tag.length;
        out.write(0xFE);
        out.write(length >>> 16);
        out.write(length >>> 8);
        out.write(length);
        out.write(tag.length);
        out.writeBytes(tag);
        return out.toByteArray();
    }

    /** A composite entry with a mime type spelt out: u8 (length - 1), mime, u24 length, content. */
    static byte[] customEntry(String mime, byte[] content) {
        byte[] m = mime.getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(m.length - 1);
        out.writeBytes(m);
        out.write(content.length >>> 16);
        out.write(content.length >>> 8);
        out.write(content.length);
        out.writeBytes(content);
        return out.toByteArray();
    }

    /** SETUP metadata with a bearer token: 0xFC (0x80 | 0x7C), u24 length, 0x81 (bearer), token. */
    static byte[] bearer(String token) {
        byte[] t = token.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int length = 1 + t.length;
        out.write(0xFC);
        out.write(length >>> 16);
        out.write(length >>> 8);
        out.write(length);
        out.write(0x81);
        out.writeBytes(t);
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static Payload payload(byte[] metadata, byte[] data) {
        return DefaultPayload.create(data, metadata);
    }

    Mono<byte[]> call(String route, byte[] data) {
        return rsocket.requestResponse(payload(route(route), data)).map(RawClient::data);
    }

    Flux<byte[]> stream(String route, byte[] data) {
        return rsocket.requestStream(payload(route(route), data)).map(RawClient::data);
    }

    /** A request-channel: {@code first} routed to {@code route}, then {@code rest} as plain data payloads. */
    Flux<byte[]> channel(String route, byte[] first, Flux<byte[]> rest) {
        return rsocket.requestChannel(Flux.just(payload(route(route), first)).concatWith(rest.map(DefaultPayload::create)))
            .map(RawClient::data);
    }

    Mono<Void> fireAndForget(String route, byte[] data) {
        return rsocket.fireAndForget(payload(route(route), data));
    }

    static byte[] data(Payload p) {
        try {
            ByteBuf d = p.sliceData();
            byte[] out = new byte[d.readableBytes()];
            d.getBytes(d.readerIndex(), out);
            return out;
        } finally {
            p.release();
        }
    }

    static String text(byte[] data) {
        return new String(data, StandardCharsets.UTF_8);
    }

    static ByteBuf wrap(byte[] b) {
        return Unpooled.wrappedBuffer(b);
    }

    @Override
    public void close() {
        rsocket.dispose();
    }
}
