package io.reel.store;

import io.reel.store.groups.ConsumerGroups;
import io.reel.store.internal.index.IndexerStage;
import io.reel.store.internal.index.StreamIndex;
import io.reel.store.internal.log.Bytes;
import io.reel.store.internal.log.DirectoryLock;
import io.reel.store.internal.log.DurablePoint;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.LogRecovery;
import io.reel.store.internal.log.RecentRecords;
import io.reel.store.internal.log.Segment;
import io.reel.store.internal.subscription.AllRead;
import io.reel.store.internal.subscription.LogCursor;
import io.reel.store.internal.subscription.LogSubscription;
import io.reel.store.internal.subscription.ProjectorStage;
import io.reel.store.internal.subscription.StreamRead;
import io.reel.store.internal.subscription.SubscriptionCheckpoints;
import io.reel.store.internal.writer.AppendCommand;
import io.reel.store.internal.writer.Scavenger;
import io.reel.store.internal.writer.StoreGauges;
import io.reel.store.internal.writer.StoreMetrics;
import io.reel.store.internal.writer.StreamHeads;
import io.reel.store.internal.writer.WriterStage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An event store in a data directory: one totally ordered, durable, append-only log, with Reactor stages
 * around it (Writer, Indexer, Projector) and this API in front.
 *
 * <pre>{@code
 * try (EventStore store = EventStore.open(Path.of("reel-data"))) {
 *     AppendResult r = store.append("order-42", ExpectedRevision.NO_STREAM,
 *         EventData.json("OrderPlaced", "{\"total\": 12}")).block();
 *     store.readStream("order-42", 0, 0, Direction.FORWARDS).doOnNext(System.out::println).blockLast();
 *     store.subscribe(SubscribeOptions.fromStart()).take(1).blockLast();
 * }
 * }</pre>
 *
 * <p>Thread-safe. Nothing here blocks the calling thread: appends complete on the store's acknowledging thread,
 * {@code reel-acks}, off the writer's (do not block in their callbacks); reads run on the store's reader threads
 * ({@code reel-read-*}), subscriptions and their subscribers' {@code onNext} on its subscription threads
 * ({@code reel-subscription-*}), the indexer on {@code reel-indexer}. One store per data
 * directory: a second open, in this process or another, fails with {@code LOCKED}.
 */
public final class EventStore implements EventSource, AutoCloseable {
    /** The Reel version, as {@code info} reports it. */
    public static final String VERSION = "0.1.0";

    private static final Logger LOG = LoggerFactory.getLogger(EventStore.class);

    private final Path dir;
    private final StoreSettings settings;
    private final StoreMetrics metrics;
    private final DirectoryLock lock;
    private final Log log;
    private final RecentRecords recent;
    private final ProjectorStage projector;
    private final IndexerStage indexer;
    private final DurablePoint durablePoint;
    private final WriterStage writer;
    private final StreamHeads heads;
    private final SubscriptionCheckpoints namedCheckpoints;
    private final ConsumerGroups groups;
    private final RecoveryReport recovery;
    private final StoreGauges gauges;
    private volatile boolean closed;

    /**
     * What opening the store found: how long it took, what recovery cut or repaired, and how much of the
     * log the indexer replayed.
     *
     * @param truncatedBytes bytes of an unacknowledged torn tail cut from the active segment
     * @param lostEvents     positions lost to damage, when opened with {@code repair}
     * @param repairs        one sentence per repaired file
     * @param replayedEvents records the indexer replayed past its checkpoint
     */
    public record RecoveryReport(Duration openTime, long head, long truncatedBytes, long lostEvents, List<String> repairs,
                                 long replayedEvents) {
    }

    private EventStore(Path dir, StoreSettings settings) throws IOException {
        long started = System.nanoTime();
        this.dir = dir;
        this.settings = settings;
        this.metrics = new StoreMetrics(settings.meterRegistry());
        Files.createDirectories(dir);
        this.lock = DirectoryLock.acquire(dir);
        Log openedLog = null;
        ProjectorStage openedProjector = null;
        DurablePoint openedPoint = null;
        WriterStage startedWriter = null;
        SubscriptionCheckpoints openedCheckpoints = null;
        try {
            LogRecovery.Outcome outcome = LogRecovery.open(dir, settings);
            openedLog = outcome.log();
            this.log = openedLog;
            metrics.recoveryTruncatedBytes.increment(outcome.truncatedBytes());
            this.recent = new RecentRecords(8192, settings.recentCacheBytes());
            openedProjector = new ProjectorStage();
            this.projector = openedProjector;
            long head = log.head().position();
            this.indexer = IndexerStage.load(dir.resolve("index"), head, settings.indexCheckpointEvents());
            long replayFrom = indexer.replayedFrom();
            subscribeIndexer(replayFrom);
            Progress progress = settings.progress();
            reactor.core.Disposable ticker = head == replayFrom ? null : projector.readers().schedulePeriodically(() -> progress.update(
                new Progress.Step("open", "records", indexer.index().indexedUpTo() - replayFrom, head - replayFrom, 0, 0)), 0, 200, TimeUnit.MILLISECONDS);
            try {
                indexer.awaitIndexedBlocking(head, Duration.ofMinutes(10));
            } finally {
                if (ticker != null) {
                    ticker.dispose();
                }
            }
            if (ticker != null) {
                progress.update(new Progress.Step("open", "records", head - replayFrom, head - replayFrom, 0, 0));
            }
            this.heads = new StreamHeads();
            indexer.index().forEach((name, entry) -> heads.load(name, entry.revision(), entry.metadata()));
            this.durablePoint = DurablePoint.open(log.dir());
            openedPoint = durablePoint;
            this.writer = new WriterStage(log, heads, indexer.index(), recent, durablePoint, projector::onCommit, settings, metrics);
            try (LogCursor tail = new LogCursor(log, recent, Math.max(0, head - settings.idempotencyWindow()))) {
                writer.rememberRecent(tail, log.head());
            }
            this.namedCheckpoints = new SubscriptionCheckpoints(CheckpointStore.open(dir.resolve("checkpoints").resolve("subscriptions")),
                settings.checkpointFlushInterval());
            openedCheckpoints = namedCheckpoints;
            writer.start();
            startedWriter = writer;
            this.groups = new ConsumerGroups(this, CheckpointStore.open(dir.resolve("groups")));
            this.recovery = new RecoveryReport(Duration.ofNanos(System.nanoTime() - started), head, outcome.truncatedBytes(),
                outcome.lostEvents(), outcome.repairs(), head - replayFrom);
            this.gauges = new StoreGauges(metrics, log, writer, recovery.openTime(), recovery.replayedEvents(),
                () -> closed ? 0 : info().bytes(), this::subscriptions, groups::list, projector.readers());
        } catch (IOException | RuntimeException e) {
            // what was opened so far, in reverse: a failed open leaves no thread running and no file open
            if (startedWriter != null) {
                startedWriter.close();
            }
            if (openedCheckpoints != null) {
                openedCheckpoints.close();
            }
            if (openedPoint != null) {
                try {
                    openedPoint.close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
            }
            if (openedProjector != null) {
                openedProjector.close();
            }
            if (openedLog != null) {
                openedLog.close();
            }
            lock.close();
            throw e;
        }
        LOG.info("opened {} in {} ms: head {}, {} segment(s), {} stream(s)", dir, recovery.openTime().toMillis(), recovery.head(),
            log.segments().length, indexer.index().streamCount());
    }

    /** Opens (creating if needed) the store in {@code dir} with default settings. */
    public static EventStore open(Path dir) {
        return open(dir, StoreSettings.defaults());
    }

    /**
     * Opens (creating if needed) the store in {@code dir}: takes the directory's lock, recovers the log,
     * loads the stream index and starts the stages.
     *
     * @throws ReelException {@code LOCKED} when another store owns the directory, {@code CORRUPTED} when
     *                       acknowledged data is damaged (see {@link StoreSettings#repair()})
     */
    public static EventStore open(Path dir, StoreSettings settings) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(settings, "settings");
        try {
            return new EventStore(dir, settings);
        } catch (IOException e) {
            throw ReelException.ofIo("cannot open the store in " + dir + ": " + e, e);
        }
    }

    public Path directory() {
        return dir;
    }

    public StoreSettings settings() {
        return settings;
    }

    public RecoveryReport recovery() {
        return recovery;
    }

    // ---------------------------------------------------------------------------------------------- appends

    /** See {@link #append(String, ExpectedRevision, List)}. */
    public Mono<AppendResult> append(String stream, ExpectedRevision expected, EventData... events) {
        return append(stream, expected, Arrays.asList(events));
    }

    /**
     * Appends events to a stream, atomically: all of them land at contiguous positions, or none does.
     *
     * <p>The result completes once the events are durable (as {@link StoreSettings#durability()} defines) and
     * fails with {@link WrongExpectedVersionException} when the stream is not at {@code expected} (nothing is
     * written), {@code STREAM_DELETED}, {@code TOO_LARGE} (the message names the limit and the value),
     * {@code INVALID_ARGUMENT}, {@code OVERLOADED} (the writer's queue is full; retry later) or
     * {@code STORAGE_FULL}/{@code IO_ERROR}.
     *
     * <p>Retries are safe: an append whose event ids all equal those of an earlier append to the same stream,
     * in the same order, returns that earlier result and writes nothing, whatever its expectation, while the
     * earlier append is among the last {@link StoreSettings#idempotencyWindow()} events; with an exact expected
     * revision it is recognised at any age, through the stream index. Repeating only some of them fails with
     * {@code INVALID_ARGUMENT}.
     *
     * <p>Lazy: nothing happens until subscribed. Completes on the acknowledging thread ({@code reel-acks}), in the
     * order the writer decided the appends.
     */
    public Mono<AppendResult> append(String stream, ExpectedRevision expected, List<EventData> events) {
        try {
            checkOpen();
            checkUserStream(stream);
            Objects.requireNonNull(expected, "expected");
            checkEvents(stream, events);
        } catch (ReelException e) {
            metrics.rejected(e.code());
            return Mono.error(e);
        }
        List<EventData> copy = List.copyOf(events);
        return Mono.defer(() -> submit(AppendCommand.append(stream, expected, copy)));
    }

    /** Hands a write to the writer, marked with the cluster entry it belongs to when the store is a replica. */
    private Mono<AppendResult> submit(AppendCommand command) {
        java.util.function.Supplier<EntryOrigin> origin = settings.entryOrigin();
        return writer.submit(origin == null ? command : command.from(origin.get()));
    }

    /**
     * Runs {@code submissions}, which subscribe to appends on this thread, so that the writer takes them
     * together: a group commit does not start with the first of them while the others are still being submitted
     * (and then wait for the next force). For a server that receives many appends in one request, as
     * {@code append.batch} does; each append keeps its own outcome, exactly as when subscribed one by one.
     */
    public void together(Runnable submissions) {
        writer.together(submissions);
    }

    /** Sets a stream's metadata (replacing what it had); reads honour it at once. */
    public Mono<AppendResult> setStreamMetadata(String stream, StreamMetadata metadata) {
        try {
            checkOpen();
            checkUserStream(stream);
            Objects.requireNonNull(metadata, "metadata");
            if (metadata.softDeleted() || metadata.hardDeleted()) {
                throw ReelException.invalidArgument("metadata cannot delete a stream; use deleteStream");
            }
        } catch (ReelException e) {
            metrics.rejected(e.code());
            return Mono.error(e);
        }
        return Mono.defer(() -> submit(AppendCommand.setMetadata(stream, metadata)));
    }

    /**
     * Deletes a stream. Soft: it reads as empty, and a later append (with {@code NO_STREAM} or {@code ANY})
     * continues it from the next revision. Hard: it can never be read or written again
     * ({@code STREAM_DELETED}). Either way {@code scavenge} later reclaims the bytes.
     */
    public Mono<AppendResult> deleteStream(String stream, ExpectedRevision expected, boolean hard) {
        try {
            checkOpen();
            checkUserStream(stream);
            Objects.requireNonNull(expected, "expected");
        } catch (ReelException e) {
            metrics.rejected(e.code());
            return Mono.error(e);
        }
        return Mono.defer(() -> submit(AppendCommand.delete(stream, expected, hard)));
    }

    /**
     * The streams whose names start with {@code prefix} and sort after {@code after} ("" for the first), in name
     * order, at most {@code maxCount} (0: all). Page with the last name received as {@code after}. The listing
     * reads the stream index a page of 256 names at a time, as the subscriber requests, once the index holds
     * every append acknowledged before the call. Metadata streams ({@code $$name}) are not listed.
     */
    public Flux<StreamSummary> listStreams(String prefix, String after, long maxCount) {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(after, "after");
        if (maxCount < 0) {
            return Flux.error(ReelException.invalidArgument("maxCount " + maxCount + " must not be negative (0 lists every stream)"));
        }
        Flux<StreamSummary> all = Flux.<List<StreamSummary>, String>generate(() -> after, (cursor, sink) -> {
                checkOpen();
                List<StreamSummary> page = io.reel.store.internal.index.StreamListing.page(indexer.index(), prefix, cursor, 256);
                if (page.isEmpty()) {
                    sink.complete();
                    return cursor;
                }
                sink.next(page);
                return page.get(page.size() - 1).stream();
            })
            .concatMapIterable(page -> page, 1);
        Flux<StreamSummary> listed = (maxCount > 0 ? all.take(maxCount, true) : all).subscribeOn(projector.readers());
        // like a stream read, the listing sees every append acknowledged before the call: the index catches up first
        return Flux.defer(() -> indexer.whenIndexed(log.head().position(), listed));
    }

    /** The stream's metadata ({@link StreamMetadata#NONE} when none was set). */
    public Mono<StreamMetadata> streamMetadata(String stream) {
        try {
            checkStreamName("stream", stream);
        } catch (ReelException e) {
            return Mono.error(e);
        }
        // on a reader thread: after a wait for the index it would be the indexer's, and the caller's code must not run there
        return Mono.defer(() -> indexer.awaitIndexed(log.head().position()).publishOn(projector.readers()).then(Mono.fromCallable(() -> {
            StreamIndex.StreamEntry entry = indexer.index().get(stream);
            return entry == null ? StreamMetadata.NONE : entry.effectiveMetadata();
        })));
    }

    /**
     * How many changes of a stream's truncation point or deleted state this store has committed since it opened
     * (other metadata changes do not count). It moves after the change's head is published and before the change is
     * acknowledged: a cache of stream state that reads the same count as when it was filled knows, without a read,
     * that no stream was truncated or deleted since.
     */
    public long metadataChanges() {
        return heads.metadataChanges();
    }

    // ------------------------------------------------------------------------------------------------ reads

    @Override
    public Flux<RecordedEvent> readStream(String stream, long fromRevision, long maxCount, Direction direction) {
        try {
            checkStreamName("stream", stream);
            checkNotNegative("from_revision", fromRevision);
            checkNotNegative("max_count", maxCount);
            Objects.requireNonNull(direction, "direction");
        } catch (ReelException e) {
            return Flux.error(e);
        }
        return Flux.defer(() -> {
            Log.Head head = log.head();
            return indexer.whenIndexed(head.position(),
                Flux.generate(() -> new StreamRead(log, recent, indexer.index(), settings.timerClock(), stream, fromRevision, maxCount, direction, head),
                    StreamRead::next, StreamRead::close)
                    .subscribeOn(projector.readers()));
        });
    }

    @Override
    public Flux<RecordedEvent> readAll(long fromPosition, long maxCount, Direction direction, EventFilter filter) {
        try {
            checkNotNegative("from_position", fromPosition);
            checkNotNegative("max_count", maxCount);
            Objects.requireNonNull(direction, "direction");
            Objects.requireNonNull(filter, "filter");
        } catch (ReelException e) {
            return Flux.error(e);
        }
        return new AllRead(log, recent, fromPosition, maxCount, direction, filter, projector.readers());
    }

    @Override
    public Flux<SubscriptionMessage> subscribe(SubscribeOptions options) {
        Objects.requireNonNull(options, "options");
        return Flux.defer(() -> {
            checkOpen();
            long from = options.fromEndOfLog() ? log.head().position() : options.fromPosition();
            if (options.name() != null && !options.keepsPosition()) {
                from = namedCheckpoints.get(options.name()).orElse(from);
            }
            return subscribeFrom(from, options.filter(), options.checkpointInterval(), options.name(), options.checkpointsAtHead());
        });
    }

    private Flux<SubscriptionMessage> subscribeFrom(long from, EventFilter filter, int checkpointInterval, String name, boolean checkpointAtHead) {
        long start = from;
        return new Flux<>() {
            @Override
            public void subscribe(CoreSubscriber<? super SubscriptionMessage> actual) {
                new LogSubscription(actual, log, recent, settings.timerClock(), projector, projector.subscribers(), start, filter, filter.isNone() ? 0 : checkpointInterval, name)
                    .checkpointAtHead(checkpointAtHead).start();
            }
        };
    }

    private void subscribeIndexer(long from) {
        new LogSubscription(indexer, log, recent, settings.timerClock(), projector, projector.indexing(), from, EventFilter.none(), 0, "$indexer").start();
    }

    @Override
    public Mono<Long> head() {
        return Mono.fromSupplier(() -> log.head().position());
    }

    // ------------------------------------------------------------------------------------------ replication

    /**
     * Replication: links or copies this log's segment files as they stand at its head into {@code dest} (sealed
     * segments hard-linked, the active one copied up to its last whole frame), for another replica of this log
     * to continue its own from with {@link #importLog}. Returns the head the copy holds. Blocks on file I/O:
     * never call it on a Reactor or Netty thread.
     */
    public long copyLog(Path dest) {
        checkOpen();
        try {
            return io.reel.store.internal.log.LogCopy.copyTo(log, dest);
        } catch (IOException e) {
            throw ReelException.ofIo("cannot copy the log of " + dir + " to " + dest + ": " + e, e);
        }
    }

    /**
     * Replication: continues this log with the records from its head up to {@code upTo} (exclusive) found in the
     * segment files of {@code logCopy}, a copy of another replica of this log ({@link #copyLog}). The frames are
     * written as they are, at the same positions with the same bytes, through the writer: the index, the
     * idempotency window and live subscribers see them as appends. This log must be a prefix of the copy's.
     * Blocks until they are written: never call it on a Reactor or Netty thread. Returns the records written.
     *
     * @throws ReelException {@code CORRUPTED} when the copy does not continue this log (or is damaged or
     *                       incomplete), {@code IO_ERROR}/{@code STORAGE_FULL} when writing fails
     */
    public long importLog(Path logCopy, long upTo) {
        checkOpen();
        try {
            return new io.reel.store.internal.writer.LogImporter(writer, settings.writerQueueBytes()).importFrames(logCopy, headPosition(), upTo);
        } catch (IOException e) {
            throw ReelException.ofIo("cannot import the log copy in " + logCopy + ": " + e, e);
        }
    }

    /** One past the position of the last durable record, now. */
    public long headPosition() {
        return log.head().position();
    }

    /**
     * Records the checkpoint of a named subscription: the next position it should read. Kept in memory at
     * once and forced to disk within {@link StoreSettings#checkpointFlushInterval()} and on close; a
     * subscription opened later under the same name resumes from it. A name must fit a file name (at most 180
     * characters once encoded: {@code INVALID_ARGUMENT}), and a store keeps at most 100,000 names ({@code TOO_LARGE}).
     */
    @Override
    public Mono<Void> checkpoint(String name, long nextPosition) {
        return Mono.fromRunnable(() -> {
            if (name == null || name.isBlank()) {
                throw ReelException.invalidArgument("checkpoint name is empty; name the subscription");
            }
            checkNotNegative("position", nextPosition);
            namedCheckpoints.record(name, nextPosition);
        });
    }

    /** The persistent subscription groups (competing consumers) of this store. */
    public ConsumerGroups groups() {
        return groups;
    }

    /** Stored checkpoints of named subscriptions. */
    public java.util.Map<String, Long> checkpoints() {
        return namedCheckpoints.all();
    }

    /**
     * Reclaims the bytes of records no read can return any more (deleted streams, truncated, beyond maxCount or
     * maxAge) by rewriting sealed segments, and drops whole segments by retention. Runs while appends, reads
     * and subscriptions go on; positions of surviving records never change. One scavenge at a time.
     */
    public Mono<ScavengeReport> scavenge() {
        return Mono.defer(() -> {
            checkOpen();
            Object run = new Object();
            if (!scavenging.compareAndSet(null, run)) {
                return Mono.error(new ReelException(ErrorCode.INVALID_ARGUMENT, "a scavenge is already running; wait for it to finish"));
            }
            // released before the report is emitted (a caller that has it may scavenge again at once) and, for
            // a cancelled or failed run, when it terminates; the token keeps a late release from freeing a newer run
            Runnable release = () -> scavenging.compareAndSet(run, null);
            return indexer.awaitIndexed(log.head().position())
                .then(Mono.fromCallable(() -> {
                    try {
                        return new Scavenger(log, indexer.index(), recent, settings).run();
                    } finally {
                        release.run();
                    }
                }).subscribeOn(projector.readers()))
                .onErrorMap(IOException.class, e -> new ReelException(ErrorCode.IO_ERROR, "scavenge failed: " + e, e))
                .doFinally(signal -> release.run());
        });
    }

    private final java.util.concurrent.atomic.AtomicReference<Object> scavenging = new java.util.concurrent.atomic.AtomicReference<>();

    // ------------------------------------------------------------------------------------------ inspection

    public StoreInfo info() {
        long bytes = 0;
        Segment[] segments = log.segments();
        for (Segment s : segments) {
            try {
                bytes += s.basePosition() == log.head().segmentBase() ? log.head().endOffset() : s.size();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new StoreInfo(log.head().position(), segments.length, bytes, VERSION, settings.durability().toString());
    }

    /** Every live subscription with its position and lag. */
    public List<SubscriptionStatus> subscriptions() {
        Log.Head head = log.head();
        List<SubscriptionStatus> list = new ArrayList<>();
        for (LogSubscription s : projector.subscriptions()) {
            SubscriptionStatus status = s.status(head);
            if (!status.name().startsWith("$")) {
                list.add(status);
            }
        }
        return list;
    }

    /** The live subscriptions themselves, for tests of this package that look at what a subscription holds. */
    List<LogSubscription> liveSubscriptions() {
        return List.copyOf(projector.subscriptions());
    }

    /** "ok", or the error that stopped writes (e.g. {@code STORAGE_FULL: ...}); reads go on either way. */
    public String writerState() {
        return writer.state();
    }

    /** Commit time of the last record, in microseconds since the epoch (0 for an empty log). */
    public long headTimestampMicros() {
        return log.head().timestampMicros();
    }

    // ---------------------------------------------------------------------------------------------- close

    /**
     * Stops taking appends, writes and forces everything already queued, checkpoints the index and the
     * named subscriptions, ends every subscription with {@code CLOSED} (returning once each subscriber has
     * been told, or after 5 s for one busy in its own code) and releases the directory's lock.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        groups.close();
        writer.close();
        indexer.close(log.head().position());
        projector.failAll(new ReelException(ErrorCode.CLOSED, "the store was closed"), Duration.ofSeconds(5));
        gauges.close();
        namedCheckpoints.close();
        projector.close();
        try {
            durablePoint.close();
        } catch (IOException e) {
            LOG.warn("closing {}: {}", DurablePoint.FILE_NAME, e.toString());
        }
        log.close();
        metrics.close();
        try {
            lock.close();
        } catch (IOException e) {
            LOG.warn("releasing {}: {}", DirectoryLock.FILE_NAME, e.toString());
        }
    }

    // -------------------------------------------------------------------------------------------- checks

    private void checkOpen() {
        if (closed) {
            throw new ReelException(ErrorCode.CLOSED, "the store in " + dir + " is closed");
        }
    }

    private static void checkStreamName(String field, String stream) {
        if (stream == null || stream.isEmpty()) {
            throw ReelException.invalidArgument(field + " is empty; name the stream, e.g. 'order-42'");
        }
        if (stream.getBytes(StandardCharsets.UTF_8).length > LogFormat.MAX_STREAM_NAME) {
            throw ReelException.invalidArgument(field + " is longer than " + LogFormat.MAX_STREAM_NAME + " bytes");
        }
    }

    private static void checkUserStream(String stream) {
        checkStreamName("stream", stream);
        if (stream.startsWith("$")) {
            throw ReelException.invalidArgument("stream '" + stream + "' starts with '$', which is reserved for Reel's own streams");
        }
    }

    private static void checkNotNegative(String field, long value) {
        if (value < 0) {
            throw ReelException.invalidArgument(field + " is " + value + "; it must be 0 or more");
        }
    }

    private void checkEvents(String stream, List<EventData> events) {
        if (events == null || events.isEmpty()) {
            throw ReelException.invalidArgument("the append to stream '" + stream + "' has no events; send at least one");
        }
        if (events.size() > settings.maxEventsPerAppend()) {
            throw new ReelException(ErrorCode.TOO_LARGE, "the append to stream '" + stream + "' has " + events.size()
                + " events; the limit is " + settings.maxEventsPerAppend() + " per append (maxEventsPerAppend); split it");
        }
        for (int i = 0; i < events.size(); i++) {
            EventData e = Objects.requireNonNull(events.get(i), "event");
            long size = (long) e.data().length + e.metadata().length;
            if (size > settings.maxEventSize()) {
                throw new ReelException(ErrorCode.TOO_LARGE, "event " + i + " (" + e.type() + ") of the append to stream '" + stream
                    + "' has " + size + " bytes of data and metadata; the limit is " + settings.maxEventSize() + " (maxEventSize)");
            }
            if (e.typeUtf8().length > LogFormat.MAX_TYPE) {
                throw ReelException.invalidArgument("event " + i + " has a type longer than " + LogFormat.MAX_TYPE + " bytes");
            }
            if (e.contentTypeUtf8().length > LogFormat.MAX_CONTENT_TYPE) {
                throw ReelException.invalidArgument("event " + i + " has a content type longer than " + LogFormat.MAX_CONTENT_TYPE + " bytes");
            }
        }
    }
}
