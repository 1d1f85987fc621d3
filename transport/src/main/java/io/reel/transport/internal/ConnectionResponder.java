package io.reel.transport.internal;

import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import io.reel.proto.AppendBatch;
import io.reel.proto.AppendRequest;
import io.reel.proto.Checkpoint;
import io.reel.proto.DeleteStreamRequest;
import io.reel.proto.Expectation;
import io.reel.proto.GroupJoin;
import io.reel.proto.GroupList;
import io.reel.proto.GroupRef;
import io.reel.proto.GroupSettings;
import io.reel.proto.ProjectionList;
import io.reel.proto.ProjectionQuery;
import io.reel.proto.ReadAllRequest;
import io.reel.proto.ReadStreamRequest;
import io.reel.proto.ReplayParkedResult;
import io.reel.proto.SubscribeRequest;
import io.reel.store.Direction;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.EventStore;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.StreamMetadata;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import io.reel.store.groups.GroupCodec;
import io.reel.store.wire.ProtoMapping;
import io.reel.transport.Replication;
import io.reel.transport.ServerSettings;
import io.reel.transport.WireFormat;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.util.ByteBufPayload;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Serves the requests of one connection: routes them by their routing metadata, checks the connection's
 * role, decodes the data in the connection's (or the request's) {@link WireFormat}, calls the store and
 * encodes the answer.
 *
 * <p>Runs on the connection's Netty event loop and never blocks it: the store's {@code Mono}s and
 * {@code Flux}es complete on the store's own threads, and {@code info} (which asks the file system for sizes)
 * and the group changes (which write and force the group's file) run on {@code boundedElastic}. A request that fails, for whatever reason, fails alone: its error is an
 * RSocket application error whose text is {@code "CODE: sentence"}, and the connection goes on.
 */
public final class ConnectionResponder implements RSocket {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionResponder.class);
    private static final int MAX_BATCH_BYTES = 1024 * 1024;

    private final ServerContext server;
    private final Role role;
    private final WireFormat format;
    private final AtomicInteger openStreams = new AtomicInteger();
    /**
     * Paces this connection's request-streams by its socket; null where the transport has none. Not the
     * {@code group.join} channels: a group hands a consumer no more than its in-flight limit until it acks.
     * Learnt from the first stream request, which is read on the connection's event loop inside the gate's read
     * (not at SETUP: with TLS the SETUP may arrive in the read that finishes the handshake, before the gate is in place).
     */
    private volatile WritabilityGate gate;
    /** The connection's Netty event loop, learnt from its first request; null until then, or off Netty. */
    private volatile Scheduler eventLoop;

    public ConnectionResponder(ServerContext server, Role role, WireFormat format) {
        this.server = server;
        this.role = role;
        this.format = format;
    }

    /**
     * A decoded request: its route, its data format and its message; for {@code append.batch}, instead of the
     * message, its appends ({@link AppendEncoding#decodeBatch}).
     */
    private record Request(Route route, WireFormat format, Message message, List<Object> appends) {
    }

    private Request decode(Payload payload, Route.Interaction interaction) {
        try {
            MetadataCodec.RequestMetadata md = MetadataCodec.decodeRequest(payload.hasMetadata() ? payload.sliceMetadata() : null);
            Route route = Route.named(md.route());
            if (route == null) {
                throw new ReelException(ErrorCode.NOT_FOUND, "there is no route '" + md.route() + "'; the routes are "
                    + Route.names());
            }
            if (route.interaction != interaction) {
                throw new ReelException(ErrorCode.NOT_FOUND, "route '" + route.routeName + "' is called as "
                    + route.interaction.label + ", not as " + interaction.label);
            }
            if (!role.grants(route.role)) {
                throw new ReelException(ErrorCode.UNAUTHORIZED, "route '" + route.routeName + "' needs a " + route.role.label()
                    + " token; this connection's token grants " + role.label());
            }
            WireFormat f = format;
            if (md.dataMimeType() != null) {
                f = WireFormat.ofMimeType(md.dataMimeType());
                if (f == null) {
                    throw WireErrors.invalid("data mime type '" + md.dataMimeType() + "' of route '" + route.routeName
                        + "' is not supported; use " + WireFormat.supported());
                }
            }
            String what = "route '" + route.routeName + "'";
            if (route == Route.APPEND_BATCH) {
                return new Request(route, f, null, f == WireFormat.PROTOBUF ? decodeBatch(payload.sliceData())
                    : BatchAppends.appendsOf((AppendBatch) MessageCodec.decode(f, payload.sliceData(), prototype(route), what),
                        maxBatchAppends(), maxEventsPerAppend()));
            }
            Message message = MessageCodec.decode(f, payload.sliceData(), prototype(route), what);
            return new Request(route, f, message, null);
        } finally {
            payload.release();
        }
    }

    private int maxEventsPerAppend() {
        return server.store().settings().maxEventsPerAppend();
    }

    /** The most appends an {@code append.batch} may hold: an answer takes at least 128 bytes an append (BatchAppends.answerBound). */
    private int maxBatchAppends() {
        return server.settings().maxFrameSize() / 128;
    }

    private List<Object> decodeBatch(io.netty.buffer.ByteBuf data) {
        try {
            return AppendEncoding.decodeBatch(data, maxBatchAppends(), maxEventsPerAppend());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw MessageCodec.notValid(WireFormat.PROTOBUF, "route '" + Route.APPEND_BATCH.routeName + "'", AppendBatch.getDescriptor(), e);
        }
    }

    private static Message prototype(Route route) {
        return switch (route) {
            case APPEND -> AppendRequest.getDefaultInstance();
            case APPEND_BATCH -> AppendBatch.getDefaultInstance();
            case READ_STREAM -> ReadStreamRequest.getDefaultInstance();
            case READ_ALL -> ReadAllRequest.getDefaultInstance();
            case SUBSCRIBE -> SubscribeRequest.getDefaultInstance();
            case CHECKPOINT -> Checkpoint.getDefaultInstance();
            case STREAM_METADATA_GET, STREAM_METADATA_SET -> io.reel.proto.StreamMetadata.getDefaultInstance();
            case STREAM_DELETE -> DeleteStreamRequest.getDefaultInstance();
            case INFO, CLUSTER_INFO, PROJECTION_LIST, GROUP_LIST -> Empty.getDefaultInstance();
            case STREAMS_LIST -> io.reel.proto.ListStreamsRequest.getDefaultInstance();
            case PROJECTION_STATE -> ProjectionQuery.getDefaultInstance();
            case GROUP_CREATE, GROUP_UPDATE -> GroupSettings.getDefaultInstance();
            case GROUP_DELETE, GROUP_PARKED, GROUP_REPLAY_PARKED -> GroupRef.getDefaultInstance();
            case GROUP_JOIN -> GroupJoin.getDefaultInstance();
        };
    }

    /** Fails the request being decoded; the caller counts it as a rejection by the transport. */
    private static <T> T fail(ReelException e) {
        throw e;
    }

    // ------------------------------------------------------------------------------ request-response

    @Override
    public Mono<Payload> requestResponse(Payload payload) {
        Request request;
        Mono<? extends Message> answer;
        try {
            request = decode(payload, Route.Interaction.REQUEST_RESPONSE);
            if (request.route() == Route.APPEND_BATCH) {
                return appendBatch(request);
            }
            answer = respond(request);
        } catch (ReelException e) {
            server.metrics().rejected(e.code());
            return Mono.error(WireErrors.toApplicationError(e));
        } catch (RuntimeException e) {
            return Mono.error(WireErrors.toApplicationError(e));
        }
        WireFormat f = request.format();
        if (request.route() == Route.APPEND) {
            answer = onEventLoop(answer);
        }
        return answer.map(m -> MessageCodec.payload(f, m)).onErrorMap(WireErrors::toApplicationError);
    }

    /** {@code append.batch}: the outcomes written straight into the answer over protobuf, as a message over JSON. */
    private Mono<Payload> appendBatch(Request request) {
        WireFormat f = request.format();
        return onEventLoop(BatchAppends.serve(server, request.appends()))
            .map(outcomes -> f == WireFormat.PROTOBUF ? ByteBufPayload.create(AppendEncoding.encodeOutcomes(outcomes, BatchAppends::error))
                : MessageCodec.payload(f, BatchAppends.message(outcomes)))
            .onErrorMap(WireErrors::toApplicationError);
    }

    /**
     * An append's answer, moved to this connection's event loop: the store answers on its acknowledging thread;
     * the answer is encoded and sent on the loop, where the answers of one writer batch are written together and
     * flushed once (ReelServer consolidates flushes).
     */
    private <T> Mono<T> onEventLoop(Mono<T> answer) {
        Scheduler loop = eventLoop();
        return loop == null ? answer : answer.publishOn(loop);
    }

    /**
     * The event loop of this connection: every request of a connection arrives on the one Netty event loop its
     * channel is registered with, so the first request's thread tells which it is.
     */
    private Scheduler eventLoop() {
        Scheduler s = eventLoop;
        if (s == null) {
            EventExecutor loop = ThreadExecutorMap.currentExecutor();
            if (loop == null) {
                return null;
            }
            s = Schedulers.fromExecutor(loop);
            eventLoop = s;
        }
        return s;
    }

    private Mono<? extends Message> respond(Request request) {
        EventStore store = server.store();
        Replication cluster = server.settings().replication();
        return switch (request.route()) {
            case APPEND -> {
                AppendRequest r = (AppendRequest) request.message();
                if (cluster != null) {
                    yield cluster.append(r.getStream(), expected(r.getExpectedCase() == AppendRequest.ExpectedCase.REVISION,
                        r.getRevision(), r.getExpectation()), events(r, maxEventsPerAppend())).map(ProtoMapping::toProto);
                }
                yield store.append(r.getStream(), expected(r.getExpectedCase() == AppendRequest.ExpectedCase.REVISION,
                    r.getRevision(), r.getExpectation()), events(r, maxEventsPerAppend())).map(ProtoMapping::toProto);
            }
            case STREAM_METADATA_GET -> {
                String stream = ((io.reel.proto.StreamMetadata) request.message()).getStream();
                yield store.streamMetadata(stream).map(m -> ProtoMapping.toProto(stream, m));
            }
            case STREAM_METADATA_SET -> {
                io.reel.proto.StreamMetadata m = (io.reel.proto.StreamMetadata) request.message();
                yield (cluster != null ? cluster.setStreamMetadata(m.getStream(), fromProto(m)) : store.setStreamMetadata(m.getStream(), fromProto(m)))
                    .map(ProtoMapping::toProto);
            }
            case STREAM_DELETE -> {
                DeleteStreamRequest r = (DeleteStreamRequest) request.message();
                ExpectedRevision expected = expected(r.getExpectedCase() == DeleteStreamRequest.ExpectedCase.REVISION,
                    r.getRevision(), r.getExpectation());
                yield (cluster != null ? cluster.deleteStream(r.getStream(), expected, r.getHard()) : store.deleteStream(r.getStream(), expected, r.getHard()))
                    .map(ProtoMapping::toProto);
            }
            case INFO -> Mono.fromCallable(store::info).subscribeOn(Schedulers.boundedElastic()).map(ProtoMapping::toProto)
                .map(info -> cluster == null ? info.toBuilder().setRole("STANDALONE").build() : ClusterViews.withStatus(info, cluster.status()));
            case CLUSTER_INFO -> Mono.fromSupplier(() -> cluster == null ? ClusterViews.standalone(store) : cluster.clusterInfo());
            case PROJECTION_LIST -> server.settings().projections().list()
                .map(list -> ProjectionList.newBuilder().addAllProjections(list).build());
            case PROJECTION_STATE -> {
                String name = ((ProjectionQuery) request.message()).getName();
                if (name.isEmpty()) {
                    yield fail(WireErrors.invalid("projection.state needs a name; projection.list shows them"));
                }
                yield server.settings().projections().state(name).switchIfEmpty(Mono.error(() -> new ReelException(
                    ErrorCode.NOT_FOUND, "there is no projection '" + name + "'; projection.list shows them")));
            }
            // create, update and delete write (and force) the group's file, and delete waits for the group to stop
            case GROUP_CREATE -> store.groups().create(GroupCodec.fromProto((GroupSettings) request.message()))
                .subscribeOn(Schedulers.boundedElastic()).thenReturn(Empty.getDefaultInstance());
            case GROUP_UPDATE -> store.groups().update(GroupCodec.fromProto((GroupSettings) request.message()))
                .subscribeOn(Schedulers.boundedElastic()).thenReturn(Empty.getDefaultInstance());
            case GROUP_DELETE -> store.groups().delete(groupName(request))
                .subscribeOn(Schedulers.boundedElastic()).thenReturn(Empty.getDefaultInstance());
            // off the event loop: on a node that does not lead, the list is read from the groups' files
            case GROUP_LIST -> Mono.fromSupplier(() -> {
                GroupList.Builder list = GroupList.newBuilder();
                store.groups().list().forEach(g -> list.addGroups(GroupCodec.toProto(g)));
                return list.build();
            }).subscribeOn(Schedulers.boundedElastic());
            case GROUP_REPLAY_PARKED -> store.groups().replayParked(groupName(request))
                .map(n -> ReplayParkedResult.newBuilder().setReplayed(n).build());
            default -> throw new IllegalStateException("route " + request.route() + " is not request-response");
        };
    }

    private String groupName(Request request) {
        String name = ((GroupRef) request.message()).getName();
        if (name.isEmpty()) {
            return fail(WireErrors.invalid(request.route().routeName + " needs the group's name in GroupRef.name; group.list shows the groups"));
        }
        return name;
    }

    static ExpectedRevision expected(boolean exact, long revision, Expectation expectation) {
        if (exact) {
            if (revision < 0) {
                return fail(WireErrors.invalid("revision " + Long.toUnsignedString(revision) + " is too large"));
            }
            return ExpectedRevision.exactly(revision);
        }
        return switch (expectation) {
            case ANY -> ExpectedRevision.ANY;
            case NO_STREAM -> ExpectedRevision.NO_STREAM;
            case STREAM_EXISTS -> ExpectedRevision.STREAM_EXISTS;
            case UNRECOGNIZED -> fail(WireErrors.invalid("expectation is not ANY, NO_STREAM or STREAM_EXISTS"));
        };
    }

    /**
     * The events of {@code r}, checked; more than {@code maxEvents} fail with {@code TOO_LARGE} before any is built (the
     * generated parser has already made them, but ids, copies and errors for millions of them are not made again).
     */
    static List<EventData> events(AppendRequest r, int maxEvents) {
        if (r.getEventsCount() > maxEvents) {
            throw AppendEncoding.tooManyEvents(r.getStream(), r.getEventsCount(), maxEvents);
        }
        List<EventData> events = new ArrayList<>(r.getEventsCount());
        for (int i = 0; i < r.getEventsCount(); i++) {
            io.reel.proto.EventData e = r.getEvents(i);
            events.add(event(i, null, e.getEventId(), e.getType(), e.getContentType(), e.getData().toByteArray(), e.getMetadata().toByteArray()));
        }
        return events;
    }

    /**
     * Event {@code index} of an append, checked as every append route checks it: an empty id gets a new one, an
     * empty content type is {@code application/octet-stream}, an empty type is refused. {@code id} is the id when
     * the caller has parsed {@code idText} already; null parses it here.
     */
    static EventData event(int index, UUID id, String idText, String type, String contentType, byte[] data, byte[] metadata) {
        if (id == null) {
            if (idText.isEmpty()) {
                id = UUID.randomUUID();
            } else {
                try {
                    id = UUID.fromString(idText);
                } catch (IllegalArgumentException bad) {
                    return fail(WireErrors.invalid("events[" + index + "].event_id '" + idText
                        + "' is not a UUID; send a UUID in canonical text form, or leave it empty to have one generated"));
                }
            }
        }
        if (type.isEmpty()) {
            return fail(WireErrors.invalid("events[" + index + "].type is empty; every event needs a type such as 'TaskScheduled'"));
        }
        return EventData.of(id, type, contentType.isEmpty() ? EventData.OCTET_STREAM : contentType, data, metadata);
    }

    // ------------------------------------------------------------------------------ request-stream

    @Override
    public Flux<Payload> requestStream(Payload payload) {
        Request request;
        Flux<Payload> stream;
        try {
            request = decode(payload, Route.Interaction.REQUEST_STREAM);
            stream = stream(request);
        } catch (ReelException e) {
            server.metrics().rejected(e.code());
            return Flux.error(WireErrors.toApplicationError(e));
        } catch (RuntimeException e) {
            return Flux.error(WireErrors.toApplicationError(e));
        }
        WritabilityGate g = gate;
        if (g == null) {
            g = gate = WritabilityGate.reading();
        }
        return limited(g == null ? stream : g.pace(stream));
    }

    /** {@code stream}, counted against {@link ServerSettings#maxStreamsPerConnection()} while it is open. */
    private Flux<Payload> limited(Flux<Payload> stream) {
        Flux<Payload> limited = Flux.defer(() -> {
            if (openStreams.incrementAndGet() > server.settings().maxStreamsPerConnection()) {
                openStreams.decrementAndGet();
                return Flux.error(rejectedNow(new ReelException(ErrorCode.OVERLOADED, "this connection already has "
                    + server.settings().maxStreamsPerConnection() + " reads, subscriptions and group consumers open, the limit "
                    + "(maxStreamsPerConnection); cancel one or open another connection")));
            }
            server.metrics().streams.incrementAndGet();
            return stream.doFinally(signal -> {
                openStreams.decrementAndGet();
                server.metrics().streams.decrementAndGet();
            });
        });
        return limited.onErrorMap(WireErrors::toApplicationError);
    }

    private ReelException rejectedNow(ReelException e) {
        server.metrics().rejected(e.code());
        return e;
    }

    private Flux<Payload> stream(Request request) {
        EventStore store = server.store();
        WireFormat f = request.format();
        switch (request.route()) {
            case READ_STREAM -> {
                ReadStreamRequest r = (ReadStreamRequest) request.message();
                long from = r.getFromEnd() ? EventSource.END : unsigned("from_revision", r.getFromRevision());
                Flux<io.reel.store.RecordedEvent> records = store.readStream(r.getStream(), from, unsigned("max_count", r.getMaxCount()),
                    r.getBackwards() ? Direction.BACKWARDS : Direction.FORWARDS);
                return ClusterViews.afterHead(store, r.getMinHead(), server.settings().minHeadWait(), records(records, f, maxBatch(r.getMaxBatch())));
            }
            case READ_ALL -> {
                ReadAllRequest r = (ReadAllRequest) request.message();
                long from = r.getFromEnd() ? EventSource.END : unsigned("from_position", r.getFromPosition());
                Flux<io.reel.store.RecordedEvent> records = store.readAll(from, unsigned("max_count", r.getMaxCount()),
                    r.getBackwards() ? Direction.BACKWARDS : Direction.FORWARDS, filter(r.hasFilter() ? r.getFilter() : null));
                return ClusterViews.afterHead(store, r.getMinHead(), server.settings().minHeadWait(), records(records, f, maxBatch(r.getMaxBatch())));
            }
            case SUBSCRIBE -> {
                SubscribeRequest r = (SubscribeRequest) request.message();
                SubscribeOptions options = switch (r.getFromCase()) {
                    case START -> r.getStart() ? SubscribeOptions.fromStart() : SubscribeOptions.fromEnd();
                    case POSITION -> SubscribeOptions.fromPosition(unsigned("position", r.getPosition()));
                    case END, FROM_NOT_SET -> SubscribeOptions.fromEnd();
                };
                options = options.filter(filter(r.hasFilter() ? r.getFilter() : null));
                if (!r.getName().isEmpty()) {
                    options = options.name(r.getName());
                }
                if (r.getResume() && r.getFromCase() == SubscribeRequest.FromCase.POSITION) {
                    options = options.keepPosition();
                }
                int maxBatch = maxBatch(r.getMaxBatch());
                Flux<SubscriptionMessage> messages = ClusterViews.afterHead(store, r.getMinHead(), server.settings().minHeadWait(),
                    store.subscribe(options));
                if (maxBatch > 1) {
                    return new BatchingFlux(messages, f, maxBatch, MAX_BATCH_BYTES, r.getSignals(), server.scheduler());
                }
                if (r.getSignals()) {
                    return messages.map(m -> MessageCodec.item(f, m));
                }
                return messages.filter(m -> m instanceof SubscriptionMessage.Event)
                    .map(m -> MessageCodec.record(f, ((SubscriptionMessage.Event) m).event()));
            }
            case GROUP_PARKED -> {
                return records(store.groups().parked(groupName(request)), f, 1);
            }
            case STREAMS_LIST -> {
                io.reel.proto.ListStreamsRequest r = (io.reel.proto.ListStreamsRequest) request.message();
                return store.listStreams(r.getPrefix(), r.getAfter(), unsigned("max_count", r.getMaxCount()))
                    .map(s -> MessageCodec.payload(f, ProtoMapping.toProto(s)));
            }
            default -> throw new IllegalStateException("route " + request.route() + " is not request-stream");
        }
    }

    private Flux<Payload> records(Flux<io.reel.store.RecordedEvent> records, WireFormat f, int maxBatch) {
        if (maxBatch > 1) {
            return new BatchingFlux(records.map(SubscriptionMessage.Event::new), f, maxBatch, MAX_BATCH_BYTES, false, server.scheduler());
        }
        return records.map(r -> MessageCodec.record(f, r));
    }

    private int maxBatch(int maxBatch) {
        if (maxBatch < 0 || maxBatch > ServerSettings.MAX_BATCH_LIMIT) {
            return fail(WireErrors.invalid("max_batch " + Integer.toUnsignedString(maxBatch) + " is above the limit of "
                + ServerSettings.MAX_BATCH_LIMIT));
        }
        return maxBatch;
    }

    private long unsigned(String field, long value) {
        if (value < 0) {
            return fail(WireErrors.invalid(field + " " + Long.toUnsignedString(value) + " is too large; the largest is "
                + Long.MAX_VALUE));
        }
        return value;
    }

    private static EventFilter filter(io.reel.proto.Filter f) {
        return f == null ? EventFilter.none() : GroupCodec.fromProto(f);
    }

    // ------------------------------------------------------------------------------ fire-and-forget

    @Override
    public Mono<Void> fireAndForget(Payload payload) {
        try {
            Request request = decode(payload, Route.Interaction.FIRE_AND_FORGET);
            Checkpoint c = (Checkpoint) request.message();
            if (c.getName().startsWith("$")) {
                // Reel's own consumers' names (projection runners): a client must not steer them
                throw WireErrors.invalid("checkpoint name '" + c.getName() + "' starts with '$', which is kept for Reel's own consumers");
            }
            return server.store().checkpoint(c.getName(), unsigned("position", c.getPosition()))
                .onErrorResume(e -> {
                    LOG.debug("checkpoint {} rejected: {}", c.getName(), e.getMessage());
                    if (e instanceof ReelException re) {
                        server.metrics().rejected(re.code());
                    }
                    return Mono.empty();
                });
        } catch (ReelException e) {
            server.metrics().rejected(e.code());
            LOG.debug("fire-and-forget rejected: {}", e.getMessage());
            return Mono.empty();
        }
    }

    // ------------------------------------------------------------------------------ request-channel

    /**
     * {@code group.join}: the first payload routes the channel and is the {@code GroupJoin}; the client's
     * later payloads are {@code GroupAck}s (see {@link GroupJoinChannel}).
     */
    @Override
    public Flux<Payload> requestChannel(Publisher<Payload> payloads) {
        // rsocket-java ends the client's side with a CancellationException once our side has failed; by then
        // the channel is over, so that is the end of the acknowledgements, not an error to report again
        return Flux.from(payloads).onErrorResume(CancellationException.class, e -> Flux.empty()).switchOnFirst((first, all) -> {
            if (!first.hasValue()) {
                return first.isOnError() ? Flux.error(first.getThrowable()) : Flux.empty();
            }
            Flux<Payload> channel;
            try {
                Request request = decode(first.get(), Route.Interaction.REQUEST_CHANNEL);
                channel = GroupJoinChannel.serve(server, request.format(), (GroupJoin) request.message(), all.skip(1));
            } catch (ReelException e) {
                server.metrics().rejected(e.code());
                return Flux.error(WireErrors.toApplicationError(e));
            } catch (RuntimeException e) {
                return Flux.error(WireErrors.toApplicationError(e));
            }
            return limited(channel);
        });
    }

    // ------------------------------------------------------------------------------ the rest

    @Override
    public Mono<Void> metadataPush(Payload payload) {
        payload.release();
        return Mono.empty();
    }

    // ------------------------------------------------------------------------------ conversions

    private StreamMetadata fromProto(io.reel.proto.StreamMetadata m) {
        if (m.getSoftDeleted() || m.getHardDeleted()) {
            return fail(WireErrors.invalid("stream.metadata.set cannot delete a stream; use the stream.delete route"));
        }
        unsigned("max_count", m.getMaxCount());
        unsigned("max_age_seconds", m.getMaxAgeSeconds());
        unsigned("truncate_before", m.getTruncateBefore());
        return ProtoMapping.fromProto(m);
    }
}
