package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.BaseSubscriber;

/**
 * Reads while scavenge rewrites sealed segments and the writer appends and rolls: no read fails, none sees a
 * half-written segment (that would be a checksum error, a short result or a record that was never written),
 * every record of a stream scavenge may not touch is returned, and every record returned is one that was
 * written, at its position.
 */
@Timeout(90)
class ConcurrentReadTest {
    private static final int STREAMS = 4;

    @TempDir
    Path dir;

    /** What was written: event id to stream, and the positions of the streams scavenge never touches. */
    private final Map<UUID, String> written = new ConcurrentHashMap<>();
    private final NavigableSet<Long> keepPositions = new ConcurrentSkipListSet<>();
    private final Map<String, List<UUID>> keepIds = new ConcurrentHashMap<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    private AppendResult append(EventStore store, String stream, EventData event) {
        written.put(event.eventId(), stream);
        AppendResult r = TestStores.await(store.append(stream, ExpectedRevision.ANY, event));
        if (stream.startsWith("keep-")) {
            keepPositions.add(r.firstPosition());
            keepIds.computeIfAbsent(stream, s -> new CopyOnWriteArrayList<>()).add(event.eventId());
        }
        return r;
    }

    private void prefill(EventStore store, Random random, int rounds) {
        for (int i = 0; i < rounds; i++) {
            int k = random.nextInt(STREAMS);
            append(store, "keep-" + k, TestStores.event("Keep", 50 + random.nextInt(700)));
            append(store, "trash-" + k, TestStores.event("Trash", 50 + random.nextInt(700)));
        }
    }

    /**
     * Reads {@code $all} and checks it: known records only, at strictly ordered positions, and (for an unbounded
     * read) every keep record that was acknowledged before the read began, in the read's range.
     */
    private void readAndCheckAll(EventStore store, long from, long count, Direction direction, EventFilter filter) {
        List<Long> acknowledged = new ArrayList<>(keepPositions);
        long head = store.headPosition();
        List<RecordedEvent> events = TestStores.await(store.readAll(from, count, direction, filter));
        long previous = direction == Direction.FORWARDS ? -1 : Long.MAX_VALUE;
        List<Long> keepSeen = new ArrayList<>();
        for (RecordedEvent e : events) {
            boolean ordered = direction == Direction.FORWARDS ? e.position() > previous : e.position() < previous;
            assertThat(ordered).as("positions in order: %d after %d", e.position(), previous).isTrue();
            previous = e.position();
            if (e.stream().startsWith("$$")) {
                assertThat(e.type()).isEqualTo("$metadata");
            } else {
                assertThat(written.get(e.eventId())).as("record %s was written to its stream", e).isEqualTo(e.stream());
            }
            assertThat(filter.matches(e)).isTrue();
            if (e.stream().startsWith("keep-")) {
                keepSeen.add(e.position());
            }
        }
        if (count == 0) {
            List<Long> expected = acknowledged.stream()
                .filter(p -> direction == Direction.FORWARDS ? p >= from && p < head : p <= Math.min(from, head - 1)).toList();
            assertThat(keepSeen).as("every keep record acknowledged before a read from %d %s", from, direction).containsAll(expected);
        }
    }

    private void readAndCheckStream(EventStore store, String stream, Direction direction) {
        List<UUID> acknowledged = new ArrayList<>(keepIds.getOrDefault(stream, List.of()));
        List<RecordedEvent> events = TestStores.await(store.readStream(stream, direction == Direction.FORWARDS ? 0 : EventSource.END, 0,
            direction));
        long previous = direction == Direction.FORWARDS ? -1 : Long.MAX_VALUE;
        for (RecordedEvent e : events) {
            assertThat(e.stream()).isEqualTo(stream);
            assertThat(written.get(e.eventId())).isEqualTo(stream);
            boolean ordered = direction == Direction.FORWARDS ? e.revision() > previous : e.revision() < previous;
            assertThat(ordered).as("revisions of %s in order", stream).isTrue();
            previous = e.revision();
        }
        if (stream.startsWith("keep-")) {
            List<UUID> ids = new ArrayList<>(events.stream().map(RecordedEvent::eventId).toList());
            if (direction == Direction.BACKWARDS) {
                Collections.reverse(ids);
            }
            assertThat(ids).as("all of %s", stream).startsWith(acknowledged.toArray(new UUID[0]));
        }
    }

    private Thread loop(String name, AtomicBoolean stop, CountDownLatch done, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                while (!stop.get()) {
                    body.run();
                }
            } catch (Throwable e) {
                failures.add(e);
                stop.set(true);
            } finally {
                done.countDown();
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    @ParameterizedTest(name = "recent cache {0} bytes")
    @ValueSource(longs = {0, 256 * 1024})
    void readsDuringScavengeAndAppendsAreCompleteAndNeverSeeAHalfWrittenSegment(long recentCacheBytes) throws Exception {
        Random random = new Random(recentCacheBytes);
        StoreSettings settings = TestStores.small().recentCacheBytes(recentCacheBytes).build();
        try (EventStore store = EventStore.open(dir, settings)) {
            prefill(store, random, 600);
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch done = new CountDownLatch(5);
            AtomicLong scavenged = new AtomicLong();
            AtomicLong rewritten = new AtomicLong();
            AtomicLong appended = new AtomicLong();
            loop("writer", stop, done, () -> {
                Random r = new Random(appended.get());
                int k = r.nextInt(STREAMS);
                append(store, r.nextBoolean() ? "keep-" + k : "trash-" + k, TestStores.event(r.nextBoolean() ? "Keep" : "Trash", 50 + r.nextInt(900)));
                if (appended.incrementAndGet() >= 2500) {
                    stop.set(true);
                }
            });
            loop("scavenger", stop, done, () -> {
                String trash = "trash-" + (int) (scavenged.get() % STREAMS);
                long n = scavenged.incrementAndGet();
                if (n % 3 == 0) {
                    TestStores.await(store.deleteStream(trash, ExpectedRevision.ANY, false));
                } else {
                    TestStores.await(store.setStreamMetadata(trash, StreamMetadata.NONE.withMaxCount(1 + n % 4)));
                }
                ScavengeReport report = TestStores.await(store.scavenge());
                rewritten.addAndGet(report.segmentsRewritten());
            });
            for (int i = 0; i < 3; i++) {
                int reader = i;
                loop("reader-" + i, stop, done, () -> {
                    Random r = new Random();
                    long head = store.headPosition();
                    long from = r.nextInt((int) head);
                    switch ((reader + r.nextInt(4)) % 4) {
                        case 0 -> readAndCheckAll(store, from, 0, Direction.FORWARDS, EventFilter.none());
                        case 1 -> readAndCheckAll(store, from, 0, Direction.BACKWARDS, EventFilter.none());
                        case 2 -> readAndCheckAll(store, from, 1 + r.nextInt(300), r.nextBoolean() ? Direction.FORWARDS : Direction.BACKWARDS,
                            EventFilter.builder().streamPrefix("keep-").build());
                        default -> readAndCheckStream(store, (r.nextBoolean() ? "keep-" : "trash-") + r.nextInt(STREAMS),
                            r.nextBoolean() ? Direction.FORWARDS : Direction.BACKWARDS);
                    }
                });
            }
            assertThat(done.await(80, TimeUnit.SECONDS)).as("the workers finished").isTrue();
            assertThat(failures).as("failures of readers, writer or scavenger").isEmpty();
            assertThat(rewritten.get()).as("segments scavenge rewrote while the others ran").isPositive();
            readAndCheckAll(store, 0, 0, Direction.FORWARDS, EventFilter.none());
            readAndCheckAll(store, EventSource.END, 0, Direction.BACKWARDS, EventFilter.none());
            for (int k = 0; k < STREAMS; k++) {
                readAndCheckStream(store, "keep-" + k, Direction.BACKWARDS);
                assertThat(TestStores.await(store.readStream("keep-" + k, 0, 0, Direction.FORWARDS)).stream().map(RecordedEvent::eventId).toList())
                    .containsExactlyElementsOf(keepIds.get("keep-" + k));
            }
        }
    }

    @ParameterizedTest(name = "recent cache {0} bytes")
    @ValueSource(longs = {0, 256 * 1024})
    void aSubscriptionCatchingUpDuringScavengeDeliversEverySurvivorInOrder(long recentCacheBytes) throws Exception {
        Random random = new Random(42 + recentCacheBytes);
        StoreSettings settings = TestStores.small().recentCacheBytes(recentCacheBytes).build();
        try (EventStore store = EventStore.open(dir, settings)) {
            prefill(store, random, 1200);
            long head = store.headPosition();
            List<RecordedEvent> received = new CopyOnWriteArrayList<>();
            CountDownLatch caughtUp = new CountDownLatch(1);
            BaseSubscriber<SubscriptionMessage> stepwise = new BaseSubscriber<>() {
                @Override
                protected void hookOnSubscribe(org.reactivestreams.Subscription s) {
                }

                @Override
                protected void hookOnNext(SubscriptionMessage m) {
                    if (m instanceof SubscriptionMessage.Event e) {
                        received.add(e.event());
                    } else if (m instanceof SubscriptionMessage.CaughtUp) {
                        caughtUp.countDown();
                    }
                }

                @Override
                protected void hookOnError(Throwable t) {
                    failures.add(t);
                    caughtUp.countDown();
                }
            };
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong scavenges = new AtomicLong();
            CountDownLatch scavengerDone = new CountDownLatch(1);
            loop("scavenger", stop, scavengerDone, () -> {
                long n = scavenges.incrementAndGet();
                TestStores.await(store.setStreamMetadata("trash-" + n % STREAMS, StreamMetadata.NONE.withTruncateBefore(n * 2)));
                TestStores.await(store.scavenge());
            });
            store.subscribe(SubscribeOptions.fromStart()).subscribe(stepwise);
            // small steps, so that the cursor is parked inside segments that scavenge replaces under it
            long started = System.nanoTime();
            int steps = 0;
            while (caughtUp.getCount() > 0 && failures.isEmpty()) {
                // paced by the scavenger (a step in ten waits for one more scavenge, up to four), so that on a slow disk the
                // catch-up cannot end before segments were replaced under it
                long due = Math.min(4, ++steps / 10);
                if (scavenges.get() <= due) {
                    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(1)).until(() -> scavenges.get() > due);
                }
                int before = received.size();
                stepwise.request(20);
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
                    .until(() -> received.size() >= before + 20 || caughtUp.getCount() == 0 || !failures.isEmpty());
                assertThat(System.nanoTime() - started).as("still catching up after %d events and %d scavenges", received.size(), scavenges.get())
                    .isLessThan(Duration.ofSeconds(60).toNanos());
            }
            stop.set(true);
            assertThat(scavengerDone.await(20, TimeUnit.SECONDS)).isTrue();
            stepwise.dispose();
            assertThat(failures).isEmpty();
            assertThat(scavenges.get()).as("scavenges while it caught up").isGreaterThan(3);
            List<Long> keepSeen = new ArrayList<>();
            long previous = -1;
            for (RecordedEvent e : received) {
                assertThat(e.position()).isGreaterThan(previous);
                previous = e.position();
                assertThat(e.stream().startsWith("$$") ? e.stream() : written.get(e.eventId())).isEqualTo(e.stream());
                if (e.stream().startsWith("keep-") && e.position() < head) {
                    keepSeen.add(e.position());
                }
            }
            assertThat(keepSeen).as("every keep record, in order").containsExactlyElementsOf(keepPositions.headSet(head, false));
        }
    }
}
