package io.reel.transport;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.reel.proto.AppendRequest;
import io.reel.proto.Checkpoint;
import io.reel.proto.DeleteStreamRequest;
import io.reel.proto.Expectation;
import io.reel.proto.Filter;
import io.reel.proto.ReadAllRequest;
import io.reel.proto.ReadStreamRequest;
import io.reel.proto.SubscribeRequest;
import io.reel.store.AppendResult;
import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.ExpectedRevision;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StoreInfo;
import io.reel.store.StreamMetadata;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import io.reel.store.groups.GroupCodec;
import io.reel.store.wire.ProtoMapping;
import io.reel.transport.internal.AppendEncoding;
import io.reel.transport.internal.MessageCodec;
import io.reel.transport.internal.MetadataCodec;
import io.reel.transport.internal.Route;
import io.reel.transport.internal.WireErrors;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.frame.decoder.PayloadDecoder;
import io.rsocket.transport.ClientTransport;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.transport.netty.client.WebsocketClientTransport;
import io.rsocket.util.ByteBufPayload;
import io.rsocket.util.DefaultPayload;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import javax.net.ssl.SSLException;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.tcp.TcpClient;
import reactor.util.retry.Retry;

/**
 * A remote Reel store over RSocket: append, read and subscribe as on the embedded {@code EventStore}, and an
 * {@link EventSource}, so projections run on it unchanged.
 *
 * <pre>{@code
 * ReelClient client = ReelClient.connect(ClientSettings.builder().host("127.0.0.1").port(7070).token("s3cret").build()).block();
 * client.append("order-42", ExpectedRevision.NO_STREAM, EventData.json("OrderPlaced", "{\"total\": 12}")).block();
 * client.subscribe(SubscribeOptions.fromStart()).subscribe(message -> ...);
 * }</pre>
 *
 * <p>Reconnects by itself: a lost connection is re-established with exponential backoff (from
 * {@link ClientSettings#reconnectMinBackoff()}, doubling, up to {@link ClientSettings#reconnectMaxBackoff()}).
 * Request-response calls (append, info, ...) are retried over the new connection until
 * {@link ClientSettings#requestTimeout()}; retrying an append is safe because its event ids make it
 * idempotent. Reads and subscriptions resume where their consumer stopped: a subscription re-subscribes from
 * the position after the last message it delivered, so its consumer sees no gap and no duplicate across a
 * server restart (a named subscription whose stored checkpoint is behind that position is read from the
 * checkpoint and the records already delivered are skipped). Errors the server sends are {@link ReelException}s
 * with the server's code.
 *
 * <p>Persistent subscription groups (competing consumers) are in {@link #groups()}: a joined consumer rejoins
 * by itself after a lost connection, and what it held unanswered is delivered again (at-least-once).
 *
 * <p>Thread-safe. Nothing blocks the calling thread; signals arrive on Netty threads, so do not block in them.
 */
public final class ReelClient implements EventSource, AutoCloseable {
    private final ClientSettings settings;
    private final SslContext ssl;
    private final Map<Route, byte[]> routes = new EnumMap<>(Route.class);
    private final Mono<RSocket> connection;
    private final RemoteGroups groups = new RemoteGroups(this);
    private final java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
    /** The server the next connection goes to before the list's turn: a cluster's leader, after {@code NOT_LEADER}. */
    private final java.util.concurrent.atomic.AtomicReference<java.net.InetSocketAddress> preferred = new java.util.concurrent.atomic.AtomicReference<>();
    private final AppendCoalescer appends;
    private volatile boolean closed;

    private ReelClient(ClientSettings settings) {
        this.settings = settings;
        this.ssl = settings.tls() ? sslContext(settings) : null;
        this.appends = new AppendCoalescer(this);
        for (Route r : Route.values()) {
            routes.put(r, MetadataCodec.routeMetadata(r.routeName));
        }
        byte[] setup = settings.token() == null ? null : MetadataCodec.setupMetadata(settings.token());
        this.connection = RSocketConnector.create()
            .dataMimeType(settings.format().mimeType())
            .metadataMimeType(MetadataCodec.COMPOSITE)
            .keepAlive(settings.keepAliveInterval(), settings.keepAliveTimeout())
            // zero copy: every payload is decoded (one copy into the records' array) and released where it arrives
            .payloadDecoder(PayloadDecoder.ZERO_COPY)
            .maxInboundPayloadSize(settings.maxFrameSize())
            .setupPayload(Mono.fromSupplier(() -> DefaultPayload.create(new byte[0], setup)))
            .reconnect(Retry.backoff(Long.MAX_VALUE, settings.reconnectMinBackoff()).maxBackoff(settings.reconnectMaxBackoff())
                .filter(e -> !closed && !isTlsFailure(e)))
            .connect(this::transport);
    }

    /**
     * Connects and checks the connection with an {@code info} request: the {@code Mono} fails with
     * {@code UNAUTHORIZED} when the server refuses the token, or {@code IO_ERROR} when it cannot be reached
     * within {@link ClientSettings#requestTimeout()}.
     */
    public static Mono<ReelClient> connect(ClientSettings settings) {
        Objects.requireNonNull(settings, "settings");
        return Mono.defer(() -> {
            ReelClient client = new ReelClient(settings);
            return client.info().thenReturn(client).doOnError(e -> client.close());
        });
    }

    /**
     * A client that connects on its first call, without the {@code info} round trip of {@link #connect}: for a
     * caller that makes one call and wants it to be the only round trip. A refused token or an unreachable server
     * then fails that first call.
     */
    public static ReelClient create(ClientSettings settings) {
        Objects.requireNonNull(settings, "settings");
        return new ReelClient(settings);
    }

    public ClientSettings settings() {
        return settings;
    }

    /**
     * The persistent subscription groups of the server's store (competing consumers): create, change, list and
     * join them, as {@code store.groups()} does embedded.
     */
    public RemoteGroups groups() {
        return groups;
    }

    /**
     * The transport of the next connection attempt: the servers in turn, starting with the first, so that a
     * client of a cluster moves to another node when it loses one.
     */
    private ClientTransport transport() {
        List<java.net.InetSocketAddress> servers = settings.servers();
        java.net.InetSocketAddress leader = preferred.getAndSet(null);
        java.net.InetSocketAddress server = leader != null ? leader : servers.get(Math.floorMod(attempts.getAndIncrement(), servers.size()));
        String host = server.getHostString();
        int port = server.getPort();
        if (settings.transport() == ClientSettings.Transport.WEBSOCKET) {
            HttpClient http = HttpClient.create().host(host).port(port);
            if (ssl != null) {
                http = http.secure(spec -> spec.sslContext(ssl));
            }
            return WebsocketClientTransport.create(http, settings.webSocketPath())
                .webSocketSpec(spec -> spec.maxFramePayloadLength(settings.maxFrameSize()));
        }
        TcpClient tcp = TcpClient.create().host(host).port(port);
        if (ssl != null) {
            tcp = tcp.secure(spec -> spec.sslContext(ssl));
        }
        return TcpClientTransport.create(tcp, settings.maxFrameSize());
    }

    private static SslContext sslContext(ClientSettings settings) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient();
            if (settings.trustedCertificate() != null) {
                b.trustManager(settings.trustedCertificate().toFile());
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "cannot load the trusted certificate " + settings.trustedCertificate()
                + " (PEM): " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------------------------- appends

    /** See {@link #append(String, ExpectedRevision, List)}. */
    public Mono<AppendResult> append(String stream, ExpectedRevision expected, EventData... events) {
        return append(stream, expected, Arrays.asList(events));
    }

    /**
     * Appends events to a stream atomically, as {@code EventStore.append} does; retried safely across reconnections.
     * Appends made while earlier ones are on their way travel together in one {@code append.batch} request
     * ({@link ClientSettings#coalesceAppends()}), each with its own outcome.
     */
    public Mono<AppendResult> append(String stream, ExpectedRevision expected, List<EventData> events) {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(expected, "expected");
        if (settings.format() == WireFormat.PROTOBUF) {
            byte[] request = AppendEncoding.request(stream, expected, events);
            return settings.coalesceAppends() ? appends.append(stream, request, null) : plainAppend(request, null);
        }
        AppendRequest.Builder request = AppendRequest.newBuilder().setStream(stream);
        expect(expected, request::setRevision, request::setExpectation);
        for (EventData e : events) {
            request.addEvents(io.reel.proto.EventData.newBuilder().setEventId(e.eventId().toString()).setType(e.type())
                .setContentType(e.contentType()).setData(ByteString.copyFrom(e.data())).setMetadata(ByteString.copyFrom(e.metadata())));
        }
        return settings.coalesceAppends() ? appends.append(stream, null, request.build()) : plainAppend(null, request.build());
    }

    /**
     * One append on the {@code append} route, a round trip of its own: {@code encoded} (protobuf, from
     * {@link AppendEncoding}) or, over JSON, {@code message}.
     */
    Mono<AppendResult> plainAppend(byte[] encoded, AppendRequest message) {
        io.reel.proto.AppendResult prototype = io.reel.proto.AppendResult.getDefaultInstance();
        Mono<io.reel.proto.AppendResult> answer = encoded != null
            ? callEncoded(Route.APPEND, () -> ByteBufAllocator.DEFAULT.directBuffer(encoded.length).writeBytes(encoded),
                answerOf(Route.APPEND, prototype))
            : call(Route.APPEND, message, prototype);
        return answer.map(ProtoMapping::fromProto);
    }

    private static void expect(ExpectedRevision expected, java.util.function.LongConsumer revision,
                               java.util.function.Consumer<Expectation> expectation) {
        if (expected.isExact()) {
            revision.accept(expected.revision());
        } else {
            expectation.accept(AppendEncoding.expectation(expected));
        }
    }

    /** Sets a stream's metadata (needs an admin token when the server has tokens). */
    public Mono<AppendResult> setStreamMetadata(String stream, StreamMetadata metadata) {
        io.reel.proto.StreamMetadata request = ProtoMapping.toProto(stream, metadata).toBuilder()
            .clearSoftDeleted().clearHardDeleted().build();
        return callUnrepeatable(Route.STREAM_METADATA_SET, request, io.reel.proto.AppendResult.getDefaultInstance())
            .map(ProtoMapping::fromProto);
    }

    /** A stream's metadata ({@link StreamMetadata#NONE} when none was set). */
    public Mono<StreamMetadata> streamMetadata(String stream) {
        return call(Route.STREAM_METADATA_GET, io.reel.proto.StreamMetadata.newBuilder().setStream(stream).build(),
            io.reel.proto.StreamMetadata.getDefaultInstance())
            .map(ProtoMapping::fromProto);
    }

    /** Deletes a stream, soft or hard (needs an admin token when the server has tokens). */
    public Mono<AppendResult> deleteStream(String stream, ExpectedRevision expected, boolean hard) {
        DeleteStreamRequest.Builder request = DeleteStreamRequest.newBuilder().setStream(stream).setHard(hard);
        expect(expected, request::setRevision, request::setExpectation);
        return callUnrepeatable(Route.STREAM_DELETE, request.build(), io.reel.proto.AppendResult.getDefaultInstance())
            .map(ProtoMapping::fromProto);
    }

    /**
     * The streams whose names start with {@code prefix} and sort after {@code after} ("" for the first), in name
     * order, at most {@code maxCount} (0: all); as {@link io.reel.store.EventStore#listStreams}. Demand-driven:
     * the server sends as many as are requested.
     */
    public Flux<io.reel.store.StreamSummary> listStreams(String prefix, String after, long maxCount) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(after, "after");
        io.reel.proto.ListStreamsRequest request = io.reel.proto.ListStreamsRequest.newBuilder().setPrefix(prefix).setAfter(after)
            .setMaxCount(maxCount).build();
        return stream(Route.STREAMS_LIST, request)
            .map(p -> decode(p, data -> MessageCodec.decode(settings.format(), data, io.reel.proto.StreamSummary.getDefaultInstance(),
                "a stream summary")))
            .map(ProtoMapping::fromProto)
            .onErrorMap(this::toReel);
    }

    public Mono<StoreInfo> info() {
        return call(Route.INFO, Empty.getDefaultInstance(), io.reel.proto.StoreInfo.getDefaultInstance())
            .map(ProtoMapping::fromProto);
    }

    /**
     * The cluster as the connected node sees it ({@code cluster.info}): members with role and addresses, the
     * leader's id and the term; a standalone server answers with one {@code STANDALONE} member.
     */
    public Mono<io.reel.proto.ClusterInfo> clusterInfo() {
        return call(Route.CLUSTER_INFO, Empty.getDefaultInstance(), io.reel.proto.ClusterInfo.getDefaultInstance());
    }

    /**
     * The state of one of the server's projections ({@code projection.state}): its position (the next one it
     * applies) and its state, encoded as its content type says. {@code NOT_FOUND} when the server runs none of that name.
     */
    public Mono<io.reel.proto.ProjectionState> projectionState(String name) {
        return call(Route.PROJECTION_STATE, io.reel.proto.ProjectionQuery.newBuilder().setName(name).build(),
            io.reel.proto.ProjectionState.getDefaultInstance());
    }

    @Override
    public Mono<Long> head() {
        return info().map(StoreInfo::head);
    }

    /**
     * Stores the checkpoint of a named subscription on the server (fire-and-forget: completes once sent;
     * a checkpoint the server refuses is dropped there and counted in its metrics).
     */
    @Override
    public Mono<Void> checkpoint(String name, long nextPosition) {
        if (name == null || name.isBlank()) {
            return Mono.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "checkpoint name is empty; name the subscription"));
        }
        if (nextPosition < 0) {
            return Mono.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "position is " + nextPosition + "; it must be 0 or more"));
        }
        Checkpoint request = Checkpoint.newBuilder().setName(name).setPosition(nextPosition).build();
        return Mono.defer(() -> connection.flatMap(rs -> rs.fireAndForget(payload(Route.CHECKPOINT, request))))
            .retryWhen(retry())
            .timeout(settings.requestTimeout(), Mono.error(() -> timedOut(Route.CHECKPOINT)))
            .onErrorMap(this::toReel);
    }

    // ------------------------------------------------------------------------------------- reads

    @Override
    public Flux<RecordedEvent> readStream(String stream, long fromRevision, long maxCount, Direction direction) {
        return readStream(stream, fromRevision, maxCount, direction, 0);
    }

    private Flux<RecordedEvent> readStream(String stream, long fromRevision, long maxCount, Direction direction, long minHead) {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(direction, "direction");
        return Flux.defer(() -> {
            ReadResume resume = new ReadResume(fromRevision, maxCount, direction, minHead);
            return resumable(resume, () -> ReadStreamRequest.newBuilder().setStream(stream).setMaxCount(resume.remaining)
                .setBackwards(resume.backwards).setMaxBatch(settings.maxBatch()).setMinHead(resume.minHead())
                .setFromEnd(resume.next == END).setFromRevision(resume.next == END ? 0 : resume.next).build(),
                Route.READ_STREAM, RecordedEvent::revision);
        });
    }

    @Override
    public Flux<RecordedEvent> readAll(long fromPosition, long maxCount, Direction direction, EventFilter filter) {
        return readAll(fromPosition, maxCount, direction, filter, 0);
    }

    private Flux<RecordedEvent> readAll(long fromPosition, long maxCount, Direction direction, EventFilter filter, long minHead) {
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(filter, "filter");
        Filter wireFilter = GroupCodec.toProto(filter);
        return Flux.defer(() -> {
            ReadResume resume = new ReadResume(fromPosition, maxCount, direction, minHead);
            return resumable(resume, () -> ReadAllRequest.newBuilder().setFilter(wireFilter).setMaxCount(resume.remaining)
                .setBackwards(resume.backwards).setMaxBatch(settings.maxBatch()).setMinHead(resume.minHead())
                .setFromEnd(resume.next == END).setFromPosition(resume.next == END ? 0 : resume.next).build(),
                Route.READ_ALL, RecordedEvent::position);
        });
    }

    /**
     * This client's reads and subscriptions, served only by a node whose log reaches {@code minHead} (one past the
     * last position it must hold: an append's {@code lastPosition() + 1} to read that append): read-your-writes on any
     * node of a cluster. A node that does not get there within its wait (10 s by default) answers {@code UNAVAILABLE},
     * and the read is tried again after the reconnect backoff. On a standalone server every write is there already.
     */
    public EventSource atLeast(long minHead) {
        if (minHead < 0) {
            throw ReelException.invalidArgument("minHead " + minHead + " must not be negative");
        }
        ReelClient client = this;
        return new EventSource() {
            @Override
            public Flux<SubscriptionMessage> subscribe(SubscribeOptions options) {
                return client.subscribe(options, minHead);
            }

            @Override
            public Flux<RecordedEvent> readAll(long fromPosition, long maxCount, Direction direction, EventFilter filter) {
                return client.readAll(fromPosition, maxCount, direction, filter, minHead);
            }

            @Override
            public Flux<RecordedEvent> readStream(String stream, long fromRevision, long maxCount, Direction direction) {
                return client.readStream(stream, fromRevision, maxCount, direction, minHead);
            }

            @Override
            public Mono<Long> head() {
                return client.head();
            }

            @Override
            public Mono<Void> checkpoint(String name, long nextPosition) {
                return client.checkpoint(name, nextPosition);
            }
        };
    }

    private Flux<RecordedEvent> resumable(ReadResume resume, java.util.function.Supplier<Message> request, Route route,
                                          java.util.function.ToLongFunction<RecordedEvent> key) {
        return Flux.defer(() -> {
                if (resume.finished()) {
                    return Flux.<List<RecordedEvent>>empty();
                }
                Message message = request.get();
                return connection.flatMapMany(rs -> rs.requestStream(payload(route, message)))
                    .map(p -> decode(p, data -> MessageCodec.records(settings.format(), data, settings.maxBatch() > 1)));
            })
            .concatMapIterable(Function.identity(), settings.prefetch())
            .doOnNext(r -> resume.delivered(key.applyAsLong(r), r.position()))
            .retryWhen(readRetry())
            .onErrorMap(this::toReel);
    }

    /**
     * Where a read resumes after a lost connection: after the last record it delivered, with what is left of its count,
     * on a node whose log holds every record it delivered (min_head: a node behind would skip or end early).
     */
    private static final class ReadResume {
        final boolean backwards;
        final long asked;
        volatile long next;
        volatile long remaining;
        volatile boolean exhausted;
        volatile long highest = -1;

        ReadResume(long from, long maxCount, Direction direction, long minHead) {
            this.backwards = direction == Direction.BACKWARDS;
            this.next = from;
            this.remaining = maxCount;
            this.asked = minHead;
        }

        long minHead() {
            return Math.max(asked, highest + 1);
        }

        void delivered(long key, long position) {
            highest = Math.max(highest, position);
            if (backwards) {
                exhausted = key == 0;
                next = key - 1;
            } else {
                next = key + 1;
            }
            if (remaining > 0) {
                remaining--;
                exhausted |= remaining == 0;
            }
        }

        boolean finished() {
            return exhausted;
        }
    }

    // ------------------------------------------------------------------------------------- subscriptions

    /**
     * Catch up, then follow live appends, with the embedded store's messages ({@code Event}, one
     * {@code CaughtUp}, {@code Checkpoint}s of a filtered subscription) and its guarantees, across lost
     * connections and server restarts: it re-subscribes (with backoff, for as long as it is subscribed) from
     * the position after the last message it delivered. Demand-driven: it asks the server for at most
     * {@link ClientSettings#prefetch()} payloads of {@link ClientSettings#maxBatch()} records ahead of its consumer.
     * Filtered remote subscriptions report checkpoints at the server's default interval.
     */
    @Override
    public Flux<SubscriptionMessage> subscribe(SubscribeOptions options) {
        return subscribe(options, 0);
    }

    private Flux<SubscriptionMessage> subscribe(SubscribeOptions options, long minHead) {
        Objects.requireNonNull(options, "options");
        Filter wireFilter = GroupCodec.toProto(options.filter());
        return Flux.defer(() -> {
            SubscriptionResume resume = new SubscriptionResume();
            return Flux.defer(() -> {
                    SubscribeRequest.Builder request = SubscribeRequest.newBuilder().setFilter(wireFilter).setSignals(true)
                        .setMaxBatch(settings.maxBatch());
                    if (options.name() != null) {
                        request.setName(options.name());
                    }
                    long from = resume.resumeFrom();
                    // resumed: on a node whose log reaches where it stood (one behind would say CaughtUp too early)
                    request.setMinHead(Math.max(minHead, Math.max(0, from)));
                    if (from >= 0) {
                        request.setPosition(from).setResume(true);
                    } else if (options.fromEndOfLog()) {
                        request.setEnd(true);
                    } else {
                        request.setPosition(options.fromPosition()).setResume(options.keepsPosition());
                    }
                    SubscribeRequest message = request.build();
                    return connection.flatMapMany(rs -> rs.requestStream(payload(Route.SUBSCRIBE, message)))
                        .map(p -> decode(p, data -> MessageCodec.items(settings.format(), data)))
                        .doOnNext(resume::received);
                })
                .concatMapIterable(Function.identity(), settings.prefetch())
                .filter(resume::deliver)
                .retryWhen(readRetry())
                .onErrorMap(this::toReel);
        });
    }

    /**
     * Where a subscription resumes: the position after the last message it delivered, or, when it has
     * delivered nothing yet, the first position the server reported (so a subscription from the end does
     * not skip what was appended while it reconnected).
     */
    private static final class SubscriptionResume {
        private volatile long next = -1;
        private volatile long firstReported = -1;
        private volatile boolean caughtUpDelivered;

        long resumeFrom() {
            return next >= 0 ? next : firstReported;
        }

        void received(List<SubscriptionMessage> messages) {
            if (firstReported < 0 && !messages.isEmpty()) {
                SubscriptionMessage first = messages.get(0);
                firstReported = first instanceof SubscriptionMessage.Event e ? e.event().position() : first.nextPosition();
            }
        }

        boolean deliver(SubscriptionMessage message) {
            if (message instanceof SubscriptionMessage.Event e) {
                long position = e.event().position();
                if (position < next) {
                    return false;
                }
                next = position + 1;
                return true;
            }
            long position = message.nextPosition();
            if (message instanceof SubscriptionMessage.CaughtUp) {
                if (caughtUpDelivered) {
                    return false;
                }
                caughtUpDelivered = true;
                next = Math.max(next, position);
                return true;
            }
            if (position <= next) {
                return false;
            }
            next = position;
            return true;
        }
    }

    // ------------------------------------------------------------------------------------- plumbing

    <T extends Message> Mono<T> call(Route route, Message request, T prototype) {
        return callEncoded(route, () -> MessageCodec.encodeDirect(settings.format(), request), answerOf(route, prototype));
    }

    private <T extends Message> Function<ByteBuf, T> answerOf(Route route, T prototype) {
        return data -> MessageCodec.decode(settings.format(), data, prototype, "the answer to " + route.routeName);
    }

    /**
     * As {@link #call}, for a request encoded by {@code data} (once per attempt: the buffer is handed to
     * rsocket-java), the answer read by {@code decoder}.
     */
    <T> Mono<T> callEncoded(Route route, java.util.function.Supplier<ByteBuf> data, Function<ByteBuf, T> decoder) {
        return Mono.defer(() -> connection.flatMap(rs -> rs.requestResponse(directPayload(route, data.get()))))
            .map(p -> decode(p, decoder))
            .retryWhen(retry())
            .timeout(settings.requestTimeout(), Mono.error(() -> timedOut(route)))
            .onErrorMap(this::toReel);
    }

    /**
     * As {@link #call}, for a write that carries nothing to recognise it by when it comes again (a metadata change, a
     * delete): sent again over a new connection only when it cannot have been applied, that is when the connection
     * failed before the request went out or the server refused it ({@code CLOSED}, {@code NOT_LEADER}). A connection
     * lost after it went out fails it with {@code UNAVAILABLE}, as it may or may not have been applied; sent again,
     * a delete that was applied would answer {@code STREAM_DELETED} or {@code WRONG_EXPECTED_VERSION}.
     */
    <T extends Message> Mono<T> callUnrepeatable(Route route, Message request, T prototype) {
        return Mono.defer(() -> {
            java.util.concurrent.atomic.AtomicBoolean sent = new java.util.concurrent.atomic.AtomicBoolean();
            return Mono.defer(() -> {
                    sent.set(false);
                    return connection.flatMap(rs -> {
                        sent.set(true);
                        return rs.requestResponse(directPayload(route, MessageCodec.encodeDirect(settings.format(), request)));
                    });
                })
                .map(p -> decode(p, answerOf(route, prototype)))
                .retryWhen(retryWhile(e -> retryable(e) && (!sent.get() || WireErrors.fromServer(e) != null)))
                .timeout(settings.requestTimeout(), Mono.error(() -> timedOut(route)))
                .onErrorMap(e -> sent.get() && !(e instanceof ReelException) && WireErrors.fromServer(e) == null
                    ? new ReelException(ErrorCode.UNAVAILABLE, "the connection was lost after the " + route.routeName + " request was sent,"
                        + " so it may or may not have been applied; read the stream's metadata to see, and send it again if it was not", e)
                    : toReel(e));
        });
    }

    /** A request stream over the current connection (not resumed: the caller decides whether a retry makes sense). */
    Flux<Payload> stream(Route route, Message request) {
        return connection.flatMapMany(rs -> rs.requestStream(payload(route, request)));
    }

    /** A request channel over the current connection; {@code payloads} starts with the routed first payload. */
    Flux<Payload> channel(Publisher<Payload> payloads) {
        return connection.flatMapMany(rs -> rs.requestChannel(payloads));
    }

    Payload payload(Route route, Message message) {
        return ByteBufPayload.create(Unpooled.wrappedBuffer(MessageCodec.encode(settings.format(), message)),
            Unpooled.wrappedBuffer(routes.get(route)));
    }

    /**
     * A request whose data and metadata are pooled direct buffers, as the socket writes them: for the requests of
     * {@link #call}, appends among them, handed to rsocket-java at once (which releases them when it has sent or
     * dropped them). {@link #payload} stays on the heap for the rarer requests whose payload may wait.
     */
    private Payload directPayload(Route route, ByteBuf data) {
        byte[] metadata = routes.get(route);
        return ByteBufPayload.create(data, ByteBufAllocator.DEFAULT.directBuffer(metadata.length).writeBytes(metadata));
    }

    static <T> T decode(Payload payload, Function<ByteBuf, T> decoder) {
        try {
            return decoder.apply(payload.sliceData());
        } finally {
            payload.release();
        }
    }

    /**
     * After {@code NOT_LEADER} (a request that runs on a cluster's leader only reached another node): asks the node
     * for the leader's address and moves this client's connection there (reads and subscriptions resume on the new
     * connection as after any lost one). Over WebSocket, or while no leader is known, it moves to the next server of
     * the list instead, or stays. Completes empty either way; the caller retries.
     */
    Mono<Void> moveToLeader() {
        // the connection asked is the one closed: with several callers told NOT_LEADER at once, the first one's move
        // must not be undone by the next closing the new connection to the leader
        return connection.flatMap(rs -> rs.requestResponse(directPayload(Route.INFO,
                    MessageCodec.encodeDirect(settings.format(), Empty.getDefaultInstance())))
                .map(p -> decode(p, answerOf(Route.INFO, io.reel.proto.StoreInfo.getDefaultInstance())))
                .doOnNext(info -> {
                    String leader = info.getLeader();
                    if (leader.isEmpty()) {
                        return;
                    }
                    if (settings.transport() == ClientSettings.Transport.TCP) {
                        int colon = leader.lastIndexOf(':');
                        preferred.set(java.net.InetSocketAddress.createUnresolved(leader.substring(0, colon),
                            Integer.parseInt(leader.substring(colon + 1))));
                    }
                    rs.dispose();
                }))
            .timeout(settings.requestTimeout())
            .then()
            .onErrorResume(e -> Mono.empty());
    }

    Retry retry() {
        return retryWhile(this::retryable);
    }

    /** Tries again over the next connection, with the reconnect backoff, after the errors {@code worth} accepts. */
    private Retry retryWhile(java.util.function.Predicate<Throwable> worth) {
        return Retry.backoff(Long.MAX_VALUE, settings.reconnectMinBackoff()).maxBackoff(settings.reconnectMaxBackoff())
            .transientErrors(true).filter(worth);
    }

    /**
     * As {@link #retry()}, for one read or subscription: also after {@code UNAVAILABLE} (a node that did not reach its
     * min_head within its wait), three times, after which the read fails with it.
     */
    Retry readRetry() {
        java.util.concurrent.atomic.AtomicInteger behind = new java.util.concurrent.atomic.AtomicInteger();
        return retryWhile(e -> retryable(e) || unavailable(e) && behind.incrementAndGet() <= 3);
    }

    private boolean unavailable(Throwable error) {
        ReelException fromServer = WireErrors.fromServer(error);
        return !closed && fromServer != null && fromServer.code() == ErrorCode.UNAVAILABLE;
    }

    /** A lost or refused connection, or a server that is shutting down: worth another try over a new connection. */
    private boolean retryable(Throwable error) {
        if (closed || isTlsFailure(error) || tooLargeToSend(error)) {
            return false;
        }
        ReelException fromServer = WireErrors.fromServer(error);
        return fromServer == null || fromServer.code() == ErrorCode.CLOSED || fromServer.code() == ErrorCode.NOT_LEADER;
    }

    /** rsocket-java's refusal to send a payload above the frame limit: trying again would fail the same way. */
    private static boolean tooLargeToSend(Throwable error) {
        return error instanceof IllegalArgumentException && String.valueOf(error.getMessage()).startsWith("The payload is too big");
    }

    /** A TLS handshake that failed: trying again would fail the same way. */
    private static boolean isTlsFailure(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException || t instanceof io.netty.handler.ssl.NotSslRecordException) {
                return true;
            }
        }
        return false;
    }

    Throwable toReel(Throwable error) {
        if (error instanceof ReelException) {
            return error;
        }
        ReelException fromServer = WireErrors.fromServer(error);
        if (fromServer != null) {
            return fromServer;
        }
        if (closed) {
            return new ReelException(ErrorCode.CLOSED, "the client was closed", error);
        }
        if (tooLargeToSend(error)) {
            return new ReelException(ErrorCode.TOO_LARGE, "the request is larger than one frame (ClientSettings.maxFrameSize, "
                + settings.maxFrameSize() + " bytes) and was not sent; split it into smaller appends", error);
        }
        return new ReelException(ErrorCode.IO_ERROR, "the connection to " + settings + " failed: " + error, error);
    }

    ReelException timedOut(Route route) {
        return new ReelException(ErrorCode.IO_ERROR, "no answer to " + route.routeName + " from " + settings + " within "
            + settings.requestTimeout().toMillis() + " ms (requestTimeout): the server is not running, cannot be reached, or is too"
            + " busy to answer in time; check it, or raise ClientSettings.requestTimeout", new TimeoutException());
    }

    /** Closes the connection; reads and subscriptions end with {@code CLOSED}, nothing reconnects. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (connection instanceof Disposable d) {
            d.dispose();
        }
    }
}
