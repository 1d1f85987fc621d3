package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.reel.store.internal.index.StreamIndex;
import io.reel.store.internal.log.Bytes;
import io.reel.store.internal.log.LogFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import reactor.core.publisher.Mono;

/**
 * The Indexer against a {@link StoreModel}: random sequences of appends (every expectation kind, idempotent
 * and partial retries, concurrent bursts that share a group commit), metadata changes, soft and hard
 * deletes, clock moves, scavenges and restarts (clean, or with the index checkpoint or the offset indexes
 * deleted, damaged or stale) on a real store with 64 KiB segments; after every step, reads of streams and of
 * {@code $all} (both directions, random from/count, filters) must equal the model's.
 *
 * <p>jqwik logs the seed of every run; a failing sequence is shrunk and replayed first on the next run.
 */
class IndexModelTest {
    static final List<String> STREAMS = List.of("a-1", "a-2", "b-1", "c-1");
    static final List<String> TYPES = List.of("T1", "T2", "Other", "Rare");
    static final List<StoreModel.Filter> FILTERS = List.of(
        StoreModel.Filter.NONE,
        new StoreModel.Filter(List.of("a-"), List.of(), null, null),
        new StoreModel.Filter(List.of(), List.of("T1"), null, null),
        new StoreModel.Filter(List.of("a-"), List.of("T2", "Rare"), null, null),
        new StoreModel.Filter(List.of(), List.of(), "b|c", null),
        new StoreModel.Filter(List.of(), List.of(), null, "^T"),
        new StoreModel.Filter(List.of("$$"), List.of(), null, null),
        new StoreModel.Filter(List.of(), List.of(), "-1$", "2"),
        new StoreModel.Filter(List.of("c-"), List.of(), "^a-2", "Other|Rare"));

    // ------------------------------------------------------------------------------------------- actions

    enum Expect { ANY, NO_STREAM, STREAM_EXISTS, EXACT_CURRENT, EXACT_WRONG }

    enum RestartMode { CLEAN, NO_INDEX_CHECKPOINT, DAMAGED_INDEX_CHECKPOINT, STALE_INDEX_CHECKPOINT, NO_OFFSET_INDEXES, DAMAGED_OFFSET_INDEXES }

    record NewEvent(String type, int size) {
    }

    sealed interface Action {
    }

    record Append(int stream, Expect expect, int wrongBy, List<NewEvent> events) implements Action {
    }

    /** Several appends submitted without waiting, so that they share batches; optionally the first repeated. */
    record Burst(List<Append> appends, boolean repeatFirst) implements Action {
    }

    record Retry(int pick, Expect expect) implements Action {
    }

    record PartialRetry(int pick) implements Action {
    }

    record SetMetadata(int stream, long maxCount, long maxAgeSeconds, long truncateBefore) implements Action {
    }

    record Delete(int stream, Expect expect, boolean hard) implements Action {
    }

    record AdvanceClock(int seconds) implements Action {
    }

    record ReadStream(int stream, boolean metadataStream, long from, long count, boolean forwards) implements Action {
    }

    record ReadAll(long from, long count, boolean forwards, int filter) implements Action {
    }

    record Scavenge() implements Action {
    }

    /** A large append that fills most of a segment, so that segments roll and scavenge has sealed ones to work on. */
    record Fill(int stream, int events) implements Action {
    }

    record Restart(RestartMode mode) implements Action {
    }

    record Config(long recentCacheBytes, long indexCheckpointEvents) {
    }

    @Provide
    Arbitrary<Config> configs() {
        return Combinators.combine(Arbitraries.of(0L, 16 * 1024L, 64L * 1024 * 1024), Arbitraries.of(7L, 60L, 1_000_000L)).as(Config::new);
    }

    private static Arbitrary<Expect> expects() {
        return Arbitraries.frequency(Tuple.of(4, Expect.ANY), Tuple.of(2, Expect.NO_STREAM), Tuple.of(2, Expect.STREAM_EXISTS),
            Tuple.of(3, Expect.EXACT_CURRENT), Tuple.of(1, Expect.EXACT_WRONG));
    }

    private static Arbitrary<Append> appends() {
        Arbitrary<NewEvent> event = Combinators.combine(Arbitraries.of(TYPES),
            Arbitraries.frequencyOf(Tuple.of(7, Arbitraries.integers().between(0, 300)), Tuple.of(3, Arbitraries.integers().between(1000, 6000))))
            .as(NewEvent::new);
        return Combinators.combine(Arbitraries.integers().between(0, STREAMS.size() - 1), expects(), Arbitraries.integers().between(-2, 2),
            event.list().ofMinSize(1).ofMaxSize(4)).as(Append::new);
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Action> append = appends().map(a -> a);
        Arbitrary<Action> burst = Combinators.combine(appends().list().ofMinSize(2).ofMaxSize(5), Arbitraries.of(true, false)).as(Burst::new);
        Arbitrary<Action> retry = Combinators.combine(Arbitraries.integers().between(0, 1000), expects()).as(Retry::new);
        Arbitrary<Action> partial = Arbitraries.integers().between(0, 1000).map(PartialRetry::new);
        Arbitrary<Action> metadata = Combinators.combine(Arbitraries.integers().between(0, STREAMS.size() - 1),
            Arbitraries.frequency(Tuple.of(3, 0L), Tuple.of(2, 1L), Tuple.of(2, 3L)),
            Arbitraries.frequency(Tuple.of(3, 0L), Tuple.of(1, 30L), Tuple.of(1, 90L)),
            Arbitraries.frequency(Tuple.of(3, 0L), Tuple.of(1, 2L), Tuple.of(1, 5L), Tuple.of(1, 40L))).as(SetMetadata::new);
        Arbitrary<Action> delete = Combinators.combine(Arbitraries.integers().between(0, STREAMS.size() - 1), expects(),
            Arbitraries.frequency(Tuple.of(6, false), Tuple.of(1, true))).as(Delete::new);
        Arbitrary<Action> clock = Arbitraries.of(1, 20, 45, 100).map(AdvanceClock::new);
        Arbitrary<Action> readStream = Combinators.combine(Arbitraries.integers().between(0, STREAMS.size() - 1),
            Arbitraries.frequency(Tuple.of(5, false), Tuple.of(1, true)),
            Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.longs().between(0, 12)), Tuple.of(1, Arbitraries.just(EventSource.END))),
            Arbitraries.longs().between(0, 6), Arbitraries.of(true, false)).as(ReadStream::new);
        Arbitrary<Action> readAll = Combinators.combine(
            Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.longs().between(0, 400)), Tuple.of(1, Arbitraries.just(EventSource.END))),
            Arbitraries.longs().between(0, 40), Arbitraries.of(true, false), Arbitraries.integers().between(0, FILTERS.size() - 1))
            .as(ReadAll::new);
        Arbitrary<Action> scavenge = Arbitraries.just(new Scavenge());
        Arbitrary<Action> fill = Combinators.combine(Arbitraries.integers().between(0, STREAMS.size() - 1), Arbitraries.integers().between(2, 9))
            .as(Fill::new);
        Arbitrary<Action> restart = Arbitraries.of(RestartMode.class).map(Restart::new);
        return Arbitraries.frequencyOf(
            Tuple.of(30, append), Tuple.of(5, burst), Tuple.of(5, retry), Tuple.of(2, partial), Tuple.of(7, metadata),
            Tuple.of(5, delete), Tuple.of(5, clock), Tuple.of(12, readStream), Tuple.of(10, readAll), Tuple.of(6, scavenge),
            Tuple.of(5, restart), Tuple.of(4, fill)).list().ofMinSize(20).ofMaxSize(120);
    }

    // ---------------------------------------------------------------------------------------- property

    @Property(tries = 100)
    void readsAndWritesAgreeWithTheModel(@ForAll("configs") Config config, @ForAll("actions") List<Action> actions) {
        TestStores.withDeadline(Duration.ofSeconds(60), () -> new Run(config).execute(actions));
    }

    /** One try: a store in a fresh directory, driven alongside a model. */
    private static final class Run {
        private final Path dir = TempDirs.create("reel-model");
        private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        private final StoreModel model = new StoreModel();
        private final StoreSettings settings;
        private EventStore store;
        private byte[] savedIndexCheckpoint;
        private boolean keep;
        private int step;
        private Action action;

        Run(Config config) {
            settings = TestStores.small().clock(clock).recentCacheBytes(config.recentCacheBytes)
                .indexCheckpointEvents(config.indexCheckpointEvents).build();
        }

        void execute(List<Action> actions) {
            store = EventStore.open(dir, settings);
            try {
                for (Action a : actions) {
                    action = a;
                    apply(a);
                    step++;
                }
                checkEverything();
                restart(RestartMode.NO_INDEX_CHECKPOINT);
                checkEverything();
            } catch (AssertionError | RuntimeException e) {
                if (System.getenv("REEL_KEEP_FAILED_DIR") != null) {
                    keep = true;
                    throw new AssertionError(e.getMessage() + " [data kept in " + dir + "]", e);
                }
                throw e;
            } finally {
                store.close();
                if (!keep) {
                    TempDirs.delete(dir);
                }
            }
        }

        private String where() {
            return "step " + step + " (" + action + ")";
        }

        private void apply(Action a) {
            if (a instanceof Append x) {
                appendOne(x);
            } else if (a instanceof Burst x) {
                burst(x);
            } else if (a instanceof Retry x) {
                retry(x);
            } else if (a instanceof PartialRetry x) {
                partialRetry(x);
            } else if (a instanceof SetMetadata x) {
                StreamMetadata m = new StreamMetadata(x.maxCount, x.maxAgeSeconds == 0 ? null : Duration.ofSeconds(x.maxAgeSeconds),
                    x.truncateBefore, false, false);
                String stream = STREAMS.get(x.stream);
                check(model.setMetadata(stream, m, clock.micros()), store.setStreamMetadata(stream, m));
            } else if (a instanceof Delete x) {
                String stream = STREAMS.get(x.stream);
                ExpectedRevision expected = expectation(stream, x.expect, 1);
                check(model.delete(stream, expected, x.hard, clock.micros()), store.deleteStream(stream, expected, x.hard));
            } else if (a instanceof AdvanceClock x) {
                clock.advance(Duration.ofSeconds(x.seconds));
            } else if (a instanceof ReadStream x) {
                readStream((x.metadataStream ? "$$" : "") + STREAMS.get(x.stream), x.from, x.count,
                    x.forwards ? Direction.FORWARDS : Direction.BACKWARDS);
            } else if (a instanceof ReadAll x) {
                readAll(x.from, x.count, x.forwards ? Direction.FORWARDS : Direction.BACKWARDS, FILTERS.get(x.filter));
            } else if (a instanceof Fill x) {
                List<NewEvent> big = new ArrayList<>();
                for (int i = 0; i < x.events; i++) {
                    big.add(new NewEvent(TYPES.get(i % TYPES.size()), 5000));
                }
                appendOne(new Append(x.stream, Expect.ANY, 0, big));
            } else if (a instanceof Scavenge) {
                scavenge();
            } else if (a instanceof Restart x) {
                restart(x.mode);
                checkEverything();
            } else {
                throw new IllegalArgumentException("unknown action " + a);
            }
        }

        private ExpectedRevision expectation(String stream, Expect expect, int wrongBy) {
            long revision = model.revision(stream);
            return switch (expect) {
                case ANY -> ExpectedRevision.ANY;
                case NO_STREAM -> ExpectedRevision.NO_STREAM;
                case STREAM_EXISTS -> ExpectedRevision.STREAM_EXISTS;
                case EXACT_CURRENT -> revision < 0 ? ExpectedRevision.NO_STREAM : ExpectedRevision.exactly(revision);
                case EXACT_WRONG -> ExpectedRevision.exactly(Math.max(0, revision + (wrongBy == 0 ? 1 : wrongBy)));
            };
        }

        private static List<EventData> newEvents(List<NewEvent> specs) {
            List<EventData> events = new ArrayList<>();
            for (NewEvent e : specs) {
                events.add(TestStores.event(e.type, e.size));
            }
            return events;
        }

        private void appendOne(Append x) {
            String stream = STREAMS.get(x.stream);
            ExpectedRevision expected = expectation(stream, x.expect, x.wrongBy);
            List<EventData> events = newEvents(x.events);
            check(model.append(stream, expected, events, clock.micros()), store.append(stream, expected, events));
        }

        private void burst(Burst x) {
            List<StoreModel.Outcome> expected = new ArrayList<>();
            List<Mono<AppendResult>> submitted = new ArrayList<>();
            List<EventData> first = null;
            String firstStream = null;
            for (Append a : x.appends) {
                String stream = STREAMS.get(a.stream);
                ExpectedRevision e = expectation(stream, a.expect, a.wrongBy);
                List<EventData> events = newEvents(a.events);
                if (first == null) {
                    first = events;
                    firstStream = stream;
                }
                expected.add(model.append(stream, e, events, clock.micros()));
                submitted.add(store.append(stream, e, events).cache());
            }
            if (x.repeatFirst) {
                expected.add(model.append(firstStream, ExpectedRevision.ANY, first, clock.micros()));
                submitted.add(store.append(firstStream, ExpectedRevision.ANY, first).cache());
            }
            for (Mono<AppendResult> m : submitted) {
                m.subscribe(r -> { }, e -> { });
            }
            for (int i = 0; i < submitted.size(); i++) {
                check(expected.get(i), submitted.get(i));
            }
        }

        private void retry(Retry x) {
            List<StoreModel.AppendedEvents> appends = model.appends();
            if (appends.isEmpty()) {
                return;
            }
            StoreModel.AppendedEvents earlier = appends.get(x.pick % appends.size());
            List<EventData> events = new ArrayList<>();
            for (UUID id : earlier.ids()) {
                events.add(EventData.of(id, "Retry", EventData.OCTET_STREAM, new byte[0], null));
            }
            ExpectedRevision expected = expectation(earlier.stream(), x.expect, 1);
            retryAppend(earlier.stream(), expected, events);
        }

        /** A repeat of earlier event ids; when scavenge removed some of them, any answer the model allows for that. */
        private void retryAppend(String stream, ExpectedRevision expected, List<EventData> events) {
            if (!model.retryOfScavenged(events)) {
                check(model.append(stream, expected, events, clock.micros()), store.append(stream, expected, events));
                return;
            }
            Mono<AppendResult> call = store.append(stream, expected, events).cache();
            AppendResult result = null;
            ErrorCode code = null;
            try {
                result = call.block(TestStores.OP_TIMEOUT);
            } catch (RuntimeException e) {
                code = TestStores.codeOf(e);
            }
            StoreModel.Outcome remembered = model.peekRetry(stream, events);
            if (result != null && result.equals(remembered.result()) || code != null && code == remembered.error()) {
                return;
            }
            if (code == ErrorCode.INVALID_ARGUMENT && model.anyIdInLog(stream, events)) {
                return;
            }
            check(model.appendAsNew(stream, expected, events, clock.micros()), call);
        }

        private void partialRetry(PartialRetry x) {
            List<StoreModel.AppendedEvents> appends = model.appends().stream().filter(a -> a.ids().size() >= 2).toList();
            if (appends.isEmpty()) {
                return;
            }
            StoreModel.AppendedEvents earlier = appends.get(x.pick % appends.size());
            List<EventData> events = new ArrayList<>();
            for (UUID id : earlier.ids().subList(0, earlier.ids().size() - 1)) {
                events.add(EventData.of(id, "Retry", EventData.OCTET_STREAM, new byte[0], null));
            }
            if (x.pick % 2 == 0) {
                events.add(TestStores.event("T1", 10));
            }
            retryAppend(earlier.stream(), ExpectedRevision.ANY, events);
        }

        private void check(StoreModel.Outcome expected, Mono<AppendResult> call) {
            AppendResult result;
            try {
                result = call.block(TestStores.OP_TIMEOUT);
            } catch (RuntimeException e) {
                ErrorCode code = TestStores.codeOf(e);
                assertThat(code).as("%s: store failed with %s, model expected %s", where(), e.getMessage(), expected).isEqualTo(expected.error());
                if (code == ErrorCode.WRONG_EXPECTED_VERSION) {
                    assertThat(((WrongExpectedVersionException) unwrap(e)).actualRevision()).as("%s: actual revision", where())
                        .isEqualTo(expected.actualRevision());
                }
                return;
            }
            assertThat(result).as("%s: model expected %s", where(), expected).isEqualTo(expected.result());
        }

        private static Throwable unwrap(Throwable t) {
            while (!(t instanceof ReelException) && t.getCause() != null) {
                t = t.getCause();
            }
            return t;
        }

        private void readStream(String stream, long from, long count, Direction direction) {
            List<StoreModel.Rec> expected = model.readStream(stream, from, count, direction, clock.micros());
            List<RecordedEvent> actual;
            try {
                actual = TestStores.await(store.readStream(stream, from, count, direction));
            } catch (RuntimeException e) {
                assertThat(expected).as("%s: readStream(%s, %d, %d, %s) failed with %s", where(), stream, from, count, direction, e.getMessage())
                    .isNull();
                assertThat(TestStores.codeOf(e)).isEqualTo(ErrorCode.STREAM_DELETED);
                return;
            }
            if (expected == null) {
                fail("%s: readStream(%s) of a hard-deleted stream returned %s instead of STREAM_DELETED", where(), stream, actual);
            }
            String diff = StoreModel.difference(actual, expected);
            if (diff != null) {
                fail("%s: readStream(%s, %d, %d, %s) differs %s", where(), stream, from, count, direction, diff);
            }
        }

        private void readAll(long from, long count, Direction direction, StoreModel.Filter filter) {
            List<StoreModel.Rec> expected = model.readAll(from, count, direction, filter);
            List<RecordedEvent> actual = TestStores.await(store.readAll(from, count, direction, filter.toEventFilter()));
            String diff = StoreModel.difference(actual, expected);
            if (diff != null) {
                fail("%s: readAll(%d, %d, %s, %s) differs %s", where(), from, count, direction, filter, diff);
            }
        }

        private void scavenge() {
            long activeBase = TestStores.activeSegmentBase(dir);
            long expectedRemoved = model.scavenge(activeBase, clock.micros());
            ScavengeReport report = TestStores.await(store.scavenge());
            assertThat(report.recordsRemoved()).as("%s: records removed by %s", where(), report).isEqualTo(expectedRemoved);
            assertThat(report.segmentsDropped()).isZero();
            readAll(0, 0, Direction.FORWARDS, StoreModel.Filter.NONE);
        }

        private void restart(RestartMode mode) {
            long head = model.head();
            store.close();
            Path checkpoint = dir.resolve("index").resolve(StreamIndex.CHECKPOINT_FILE);
            long expectedReplay = 0;
            try {
                byte[] current = Files.readAllBytes(checkpoint);
                switch (mode) {
                    case CLEAN -> { }
                    case NO_INDEX_CHECKPOINT -> {
                        Files.delete(checkpoint);
                        expectedReplay = head;
                    }
                    case DAMAGED_INDEX_CHECKPOINT -> {
                        byte[] damaged = current.clone();
                        damaged[damaged.length / 2] ^= 0x5A;
                        Files.write(checkpoint, damaged);
                        expectedReplay = head;
                    }
                    case STALE_INDEX_CHECKPOINT -> {
                        if (savedIndexCheckpoint != null) {
                            Files.write(checkpoint, savedIndexCheckpoint);
                            expectedReplay = head - Bytes.getLong(savedIndexCheckpoint, 12);
                        }
                    }
                    case NO_OFFSET_INDEXES -> {
                        for (Path idx : TestStores.files(dir.resolve("log"), "*" + LogFormat.INDEX_SUFFIX)) {
                            Files.delete(idx);
                        }
                    }
                    case DAMAGED_OFFSET_INDEXES -> {
                        for (Path idx : TestStores.files(dir.resolve("log"), "*" + LogFormat.INDEX_SUFFIX)) {
                            byte[] b = Files.readAllBytes(idx);
                            b[b.length - 1] ^= 0x01;
                            Files.write(idx, b);
                        }
                    }
                }
                savedIndexCheckpoint = current;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            store = EventStore.open(dir, settings);
            assertThat(store.headPosition()).as("%s: head after reopening", where()).isEqualTo(head);
            assertThat(store.recovery().replayedEvents()).as("%s: records the indexer replayed", where()).isEqualTo(expectedReplay);
        }

        private void checkEverything() {
            readAll(0, 0, Direction.FORWARDS, StoreModel.Filter.NONE);
            readAll(EventSource.END, 0, Direction.BACKWARDS, StoreModel.Filter.NONE);
            for (String s : STREAMS) {
                readStream(s, 0, 0, Direction.FORWARDS);
                readStream(s, EventSource.END, 0, Direction.BACKWARDS);
                readStream("$$" + s, 0, 0, Direction.FORWARDS);
            }
        }
    }

    static void copy(Path from, Path to) {
        try {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
