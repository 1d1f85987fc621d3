package io.reel.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.aggregate.CounterAggregate.Add;
import io.reel.aggregate.CounterAggregate.Counter;
import io.reel.aggregate.internal.SnapshotStore;
import io.reel.store.EventStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/** The Snapshotter stage and the loader's use of snapshots, on a real store. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SnapshotterTest {
    @TempDir
    Path dir;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private static void add(AggregateRepository<Counter, Add> counters, String id, int times) {
        for (int i = 0; i < times; i++) {
            counters.handle(id, new Add(1)).block(TestStores.WAIT);
        }
    }

    private SnapshotStore.Snapshot snapshotOf(EventStore store, String stream, int schema) {
        return new SnapshotStore(store.directory(), CounterAggregate.NAME, schema, new SimpleMeterRegistry()).read(stream, false);
    }

    private double written() {
        return TestStores.counter(registry, "reel.snapshots.written", "aggregate", CounterAggregate.NAME);
    }

    private double ignored(String reason) {
        return TestStores.counter(registry, "reel.snapshots.ignored", "aggregate", CounterAggregate.NAME, "reason", reason);
    }

    @Test
    void writesASnapshotEveryNEventsOfAStream() {
        try (EventStore store = TestStores.open(dir, registry)) {
            AggregateRepository<Counter, Add> counters = AggregateRepository.create(store, new CounterAggregate());
            try (Snapshotter snapshotter = Snapshotter.builder(store).add(new CounterAggregate()).every(10).start()) {
                add(counters, "a", 35);
                add(counters, "b", 9);
                TestStores.awaitCaughtUp(snapshotter, store);
                assertThat(written()).isEqualTo(3);
                SnapshotStore.Snapshot a = snapshotOf(store, "counter-a", 1);
                assertThat(a.revision()).isEqualTo(29);
                assertThat(a.position()).isEqualTo(TestStores.events(store, "counter-a").get(29).position());
                assertThat(new CounterAggregate().stateCodec().decode(a.state())).isEqualTo(new Counter(30, 30));
                assertThat(snapshotOf(store, "counter-b", 1)).as("9 events: not yet").isNull();
            }
            assertThat(Files.exists(dir.resolve("snapshots").resolve("counter"))).isTrue();
        }
    }

    @Test
    void loadingWithASnapshotGivesTheSameStateAsLoadingFromEvents() throws IOException {
        try (EventStore store = TestStores.open(dir, registry)) {
            try (Snapshotter snapshotter = Snapshotter.builder(store).add(new CounterAggregate()).every(7).start()) {
                AggregateRepository<Counter, Add> counters = AggregateRepository.create(store, new CounterAggregate());
                add(counters, "s", 50);
                TestStores.awaitCaughtUp(snapshotter, store);
            }
            Counter fromEvents = fresh(store, false).state("s").block(TestStores.WAIT);
            Counter fromSnapshot = fresh(store, true).state("s").block(TestStores.WAIT);
            assertThat(fromEvents).isEqualTo(new Counter(50, 50));
            assertThat(fromSnapshot).isEqualTo(fromEvents);
            assertThat(ignored("damaged") + ignored("schema") + ignored("mismatch")).isZero();

            deleteRecursively(dir.resolve("snapshots"));
            assertThat(fresh(store, true).state("s").block(TestStores.WAIT)).as("deleting every snapshot loses nothing").isEqualTo(fromEvents);
        }
    }

    @Test
    void aDamagedSnapshotIsIgnoredCountedAndTheStateRebuiltFromEvents() throws IOException {
        try (EventStore store = TestStores.open(dir, registry)) {
            snapshotted(store, "d", 20, 10);
            Path file = onlySnapshotFile();
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length - 10] ^= 0x40;
            Files.write(file, bytes);

            assertThat(fresh(store, true).state("d").block(TestStores.WAIT)).isEqualTo(new Counter(20, 20));
            assertThat(ignored("damaged")).isEqualTo(1);

            Files.write(file, new byte[] {1, 2, 3});
            assertThat(fresh(store, true).state("d").block(TestStores.WAIT)).isEqualTo(new Counter(20, 20));
            assertThat(ignored("damaged")).isEqualTo(2);
        }
    }

    @Test
    void aSnapshotOfAnotherSchemaVersionIsIgnored() {
        try (EventStore store = TestStores.open(dir, registry)) {
            snapshotted(store, "v", 20, 10);
            AggregateRepository<Counter, Add> upgraded = AggregateRepository.create(store, new CounterAggregate(2));
            assertThat(upgraded.state("v").block(TestStores.WAIT)).isEqualTo(new Counter(20, 20));
            assertThat(ignored("schema")).isEqualTo(1);
            assertThat(upgraded.handle("v", new Add(1)).block(TestStores.WAIT).revision()).isEqualTo(20);
        }
    }

    @Test
    void aSnapshotThatDoesNotMatchTheLogIsIgnored() throws IOException {
        Path other = dir.resolve("other");
        Path mine = dir.resolve("mine");
        try (EventStore store = TestStores.open(other, registry)) {
            AggregateRepository<Counter, Add> counters = AggregateRepository.create(store, new CounterAggregate());
            add(counters, "padding", 5);
            snapshotted(store, "m", 20, 10);
        }
        try (EventStore store = TestStores.open(mine, registry)) {
            AggregateRepository<Counter, Add> counters = AggregateRepository.create(store, new CounterAggregate());
            add(counters, "m", 30);
            Path snapshots = mine.resolve("snapshots").resolve("counter");
            Files.createDirectories(snapshots);
            try (Stream<Path> files = Files.list(other.resolve("snapshots").resolve("counter"))) {
                for (Path f : files.toList()) {
                    Files.copy(f, snapshots.resolve(f.getFileName()));
                }
            }
            assertThat(fresh(store, true).state("m").block(TestStores.WAIT)).isEqualTo(new Counter(30, 30));
            assertThat(ignored("mismatch")).isEqualTo(1);
        }
    }

    @Test
    void resumesFromItsCheckpointAfterARestart() {
        try (EventStore store = TestStores.open(dir, registry)) {
            snapshotted(store, "r", 25, 10);
            assertThat(written()).isEqualTo(2);
        }
        SimpleMeterRegistry second = new SimpleMeterRegistry();
        try (EventStore store = TestStores.open(dir, second)) {
            assertThat(store.checkpoints()).containsKey("snapshotter");
            long checkpoint = store.checkpoints().get("snapshotter");
            assertThat(checkpoint).isEqualTo(25);
            try (Snapshotter snapshotter = Snapshotter.builder(store).add(new CounterAggregate()).every(10).start()) {
                AggregateRepository<Counter, Add> counters = AggregateRepository.create(store, new CounterAggregate());
                add(counters, "r", 10);
                TestStores.awaitCaughtUp(snapshotter, store);
            }
            assertThat(second.counter("reel.snapshots.written", "aggregate", "counter").count())
                .as("only the snapshot at revision 29 is new: nothing before the checkpoint was scanned again").isEqualTo(1);
            SnapshotStore.Snapshot latest = snapshotOf(store, "counter-r", 1);
            assertThat(latest.revision()).isEqualTo(29);
            assertThat(new CounterAggregate().stateCodec().decode(latest.state())).isEqualTo(new Counter(30, 30));
        }
    }

    @Test
    void foldingMemoryIsBoundedAndEvictedStreamsStillGetCorrectSnapshots() {
        try (EventStore store = TestStores.open(dir, registry)) {
            AggregateRepository<Counter, Add> counters = AggregateRepository.create(store, new CounterAggregate());
            try (Snapshotter snapshotter = Snapshotter.builder(store).add(new CounterAggregate()).every(10).maxStreams(3).start()) {
                int streams = 12;
                Flux.range(0, 25).concatMap(round -> Flux.range(0, streams).concatMap(s -> counters.handle("e" + s, new Add(s + 1))))
                    .blockLast(TestStores.WAIT);
                TestStores.awaitCaughtUp(snapshotter, store);
                assertThat(snapshotter.foldingStreams()).isLessThanOrEqualTo(3);
                for (int s = 0; s < streams; s++) {
                    SnapshotStore.Snapshot snapshot = snapshotOf(store, "counter-e" + s, 1);
                    assertThat(snapshot.revision()).isEqualTo(19);
                    assertThat(new CounterAggregate().stateCodec().decode(snapshot.state())).isEqualTo(new Counter(20L * (s + 1), 20));
                }
                assertThat(written()).isEqualTo(2 * streams);
            }
        }
    }

    /** {@code events} commands to counter {@code id}, with a snapshotter writing every {@code every}, caught up and closed. */
    private static void snapshotted(EventStore store, String id, int events, int every) {
        try (Snapshotter snapshotter = Snapshotter.builder(store).add(new CounterAggregate()).every(every).start()) {
            AggregateRepository<Counter, Add> counters = AggregateRepository.create(store, new CounterAggregate());
            add(counters, id, events);
            TestStores.awaitCaughtUp(snapshotter, store);
        }
    }

    @Test
    void aSoftDeletedStreamIsSnapshottedFromItsNewEventsAlone() {
        try (EventStore store = TestStores.open(dir, registry)) {
            try (Snapshotter snapshotter = Snapshotter.builder(store).add(new CounterAggregate()).every(5).start()) {
                add(fresh(store, true), "d", 12);
                TestStores.awaitCaughtUp(snapshotter, store);
                store.deleteStream("counter-d", io.reel.store.ExpectedRevision.ANY, false).block(TestStores.WAIT);
                // recreated by a repository that never saw the old events: it starts from the initial state
                add(fresh(store, true), "d", 7);
                TestStores.awaitCaughtUp(snapshotter, store);
            }
            assertThat(snapshotOf(store, "counter-d", 1).revision()).as("a snapshot of the new incarnation").isGreaterThan(11);
            Counter fromEvents = fresh(store, false).state("d").block(TestStores.WAIT);
            Counter fromSnapshot = fresh(store, true).state("d").block(TestStores.WAIT);
            assertThat(fromEvents).isEqualTo(new Counter(7, 7));
            assertThat(fromSnapshot).isEqualTo(fromEvents);
        }
    }

    private static AggregateRepository<Counter, Add> fresh(EventStore store, boolean snapshots) {
        return AggregateRepository.builder(store, new CounterAggregate()).readSnapshots(snapshots).build();
    }

    private Path onlySnapshotFile() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("snapshots").resolve("counter"))) {
            List<Path> list = files.filter(f -> f.toString().endsWith(".chk")).toList();
            assertThat(list).hasSize(1);
            return list.get(0);
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
