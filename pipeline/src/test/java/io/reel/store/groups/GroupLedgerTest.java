package io.reel.store.groups;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.proto.EventRecord;
import io.reel.store.RecordedEvent;
import io.reel.store.groups.GroupLedger.Assignment;
import io.reel.store.groups.GroupLedger.Outcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class GroupLedgerTest {
    private static final int MAX_RETRIES = 2;

    private static RecordedEvent event(long position, String stream, long micros) {
        return RecordedEvent.fromEncoded(EventRecord.newBuilder().setPosition(position).setStream(stream)
            .setTimestampMicros(micros).setType("t").build().toByteArray());
    }

    @Test
    void oneEventOfAStreamIsInFlightAtATimeAndAnAckReleasesTheNext() {
        GroupLedger<String> ledger = new GroupLedger<>(0, List.of());
        ledger.join("c1");
        ledger.received(event(0, "a", 10));
        ledger.received(event(1, "a", 11));
        ledger.received(event(2, "b", 12));

        Assignment<String> first = ledger.next(100, c -> true);
        Assignment<String> second = ledger.next(100, c -> true);
        assertThat(first.event().position()).isEqualTo(0);
        assertThat(second.event().position()).isEqualTo(2);
        assertThat(ledger.next(100, c -> true)).as("stream a is busy").isNull();
        assertThat(ledger.checkpoint()).isEqualTo(0);

        assertThat(ledger.settle(0, null, MAX_RETRIES)).isEqualTo(Outcome.DONE);
        assertThat(ledger.next(100, c -> true).event().position()).isEqualTo(1);
        assertThat(ledger.checkpoint()).isEqualTo(1);
        assertThat(ledger.settle(1, Nack.SKIP, MAX_RETRIES)).isEqualTo(Outcome.DONE);
        assertThat(ledger.settle(2, null, MAX_RETRIES)).isEqualTo(Outcome.DONE);
        assertThat(ledger.checkpoint()).isEqualTo(3);
        assertThat(ledger.settle(2, null, MAX_RETRIES)).as("settled twice").isNull();
    }

    @Test
    void aNackRetriesAtTheFrontUntilTheLimitThenParks() {
        GroupLedger<String> ledger = new GroupLedger<>(0, List.of());
        ledger.join("c1");
        ledger.received(event(0, "a", 10));
        ledger.received(event(1, "a", 11));
        for (int i = 0; i <= MAX_RETRIES; i++) {
            Assignment<String> a = ledger.next(100, c -> true);
            assertThat(a.event().position()).isEqualTo(0);
            assertThat(a.retries()).isEqualTo(i);
            assertThat(ledger.settle(0, Nack.RETRY, MAX_RETRIES))
                .isEqualTo(i < MAX_RETRIES ? Outcome.RETRIED : Outcome.PARKED_AFTER_RETRIES);
        }
        assertThat(ledger.parked()).containsExactly(0L);
        assertThat(ledger.checkpoint()).isEqualTo(1);
        assertThat(ledger.next(100, c -> true).event().position()).isEqualTo(1);
        assertThat(ledger.settle(1, Nack.PARK, MAX_RETRIES)).isEqualTo(Outcome.PARKED);
        assertThat(ledger.parked()).containsExactly(0L, 1L);
        assertThat(ledger.dirty()).isTrue();
        ledger.saved();
        assertThat(ledger.dirty()).isFalse();
    }

    @Test
    void aDeadlineBeforeNowExpiresTheEventAsARetry() {
        GroupLedger<String> ledger = new GroupLedger<>(0, List.of());
        ledger.join("c1");
        ledger.received(event(0, "a", 10));
        ledger.next(1_000, c -> true);
        assertThat(ledger.expire(999, MAX_RETRIES)).isEmpty();
        assertThat(ledger.expire(1_000, MAX_RETRIES)).isEmpty();
        assertThat(ledger.expire(1_001, MAX_RETRIES)).containsExactly(new GroupLedger.Expired<>(0, "c1", Outcome.RETRIED));
        assertThat(ledger.inFlightCount()).isZero();
        assertThat(ledger.next(2_000, c -> true).retries()).isEqualTo(1);
    }

    @Test
    void aStreamStaysWithItsConsumerAndALeavingConsumerHandsItsEventsBack() {
        GroupLedger<String> ledger = new GroupLedger<>(0, List.of());
        ledger.join("c1");
        ledger.join("c2");
        ledger.received(event(0, "a", 10));
        ledger.received(event(1, "b", 10));
        ledger.received(event(2, "a", 10));
        assertThat(ledger.next(100, c -> true).consumer()).isEqualTo("c1");
        assertThat(ledger.next(100, c -> true).consumer()).isEqualTo("c2");
        ledger.settle(0, null, MAX_RETRIES);
        assertThat(ledger.next(100, c -> true).consumer()).as("affinity").isEqualTo("c1");
        assertThat(ledger.holder(2)).isEqualTo("c1");

        assertThat(ledger.leave("c1")).isTrue();
        assertThat(ledger.leave("c1")).isFalse();
        assertThat(ledger.holder(2)).isNull();
        Assignment<String> again = ledger.next(100, c -> true);
        assertThat(again.event().position()).isEqualTo(2);
        assertThat(again.consumer()).isEqualTo("c2");
        assertThat(ledger.next(100, c -> false)).isNull();
    }

    @Test
    void replayedParkedEventsLeaveTheParkedSetWhenAcknowledged() {
        GroupLedger<String> ledger = new GroupLedger<>(5, List.of(1L, 3L));
        ledger.join("c1");
        assertThat(ledger.startReplay()).containsExactly(1L, 3L);
        assertThat(ledger.startReplay()).as("already replaying").isEmpty();
        ledger.replayed(event(1, "a", 10));
        ledger.forgetParked(3);
        Assignment<String> a = ledger.next(100, c -> true);
        assertThat(a.event().position()).isEqualTo(1);
        ledger.settle(1, null, MAX_RETRIES);
        assertThat(ledger.parked()).isEmpty();
        assertThat(ledger.checkpoint()).isEqualTo(5);
    }

    @Test
    void lagIsTheAgeOfTheOldestOutstandingEventAndRefilterRestartsFromTheCheckpoint() {
        GroupLedger<String> ledger = new GroupLedger<>(0, List.of());
        assertThat(ledger.lagSeconds(5_000_000)).isZero();
        ledger.received(event(0, "a", 1_000_000));
        ledger.received(event(1, "b", 2_000_000));
        assertThat(ledger.lagSeconds(3_500_000)).isEqualTo(2.5);
        assertThat(ledger.readPosition()).isEqualTo(2);
        assertThat(ledger.buffered()).isEqualTo(2);
        ledger.join("c1");
        assertThat(ledger.next(100, c -> true).event().position()).isZero();
        ledger.refilter();
        assertThat(ledger.buffered()).isZero();
        assertThat(ledger.readPosition()).as("from the event still in flight").isZero();
        ledger.advanced(7);
        assertThat(ledger.checkpoint()).isZero();
        ledger.settle(0, null, MAX_RETRIES);
        assertThat(ledger.checkpoint()).isEqualTo(7);
    }

    @Test
    void refilterWithNothingInFlightReReadsTheQueuedEventsFromTheCheckpoint() {
        GroupLedger<String> ledger = new GroupLedger<>(3, List.of());
        ledger.received(event(3, "a", 1));
        ledger.received(event(4, "b", 1));
        assertThat(ledger.checkpoint()).isEqualTo(3);
        ledger.refilter();
        assertThat(ledger.buffered()).isZero();
        assertThat(ledger.readPosition()).as("the queued events are read again under the new filter").isEqualTo(3);
        assertThat(ledger.checkpoint()).isEqualTo(3);
        ledger.received(event(4, "b", 1));
        ledger.join("c1");
        assertThat(ledger.next(100, c -> true).event().position()).isEqualTo(4);
        assertThat(ledger.checkpoint()).as("nothing is acked yet").isEqualTo(4);
        ledger.settle(4, null, MAX_RETRIES);
        assertThat(ledger.checkpoint()).isEqualTo(5);
    }

    @Test
    void anEventInFlightReadAgainAfterARefilterIsNotHandedOutTwice() {
        GroupLedger<String> ledger = new GroupLedger<>(0, List.of());
        ledger.join("c1");
        ledger.received(event(0, "a", 1));
        ledger.received(event(1, "a", 1));
        assertThat(ledger.next(100, c -> true).event().position()).isZero();
        ledger.refilter();
        assertThat(ledger.readPosition()).isZero();
        ledger.received(event(0, "a", 1));
        ledger.received(event(1, "a", 1));
        assertThat(ledger.buffered()).as("event 0 is still in flight").isEqualTo(1);
        ledger.settle(0, null, MAX_RETRIES);
        assertThat(ledger.next(100, c -> true).event().position()).isEqualTo(1);
        assertThat(ledger.next(100, c -> true)).isNull();
        ledger.settle(1, null, MAX_RETRIES);
        assertThat(ledger.checkpoint()).isEqualTo(2);
    }

    // ------------------------------------------------------------------------------------ the property

    /** One step of a run: an event arrives, a consumer comes or goes, a delivery is settled, or time passes. */
    record Step(int kind, int a, int b) {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        return Arbitraries.integers().between(0, 7).flatMap(kind -> Arbitraries.integers().between(0, 4)
                .flatMap(a -> Arbitraries.integers().between(0, 3).map(b -> new Step(kind, a, b))))
            .list().ofMaxSize(120);
    }

    /**
     * Against a simple model: never two events of one stream in flight, each stream's events first handed out in
     * log order, and once the consumers ack everything, every event was delivered until acknowledged or parked and
     * the checkpoint is past them all.
     */
    @Property(tries = 300)
    void everyEventIsDeliveredUntilAckedOrParkedAndStreamsNeverRunTwoAtOnce(@ForAll("steps") List<Step> steps) {
        GroupLedger<String> ledger = new GroupLedger<>(0, List.of());
        Map<String, Integer> room = new HashMap<>();
        Map<Long, String> inFlight = new HashMap<>();       // the model: position → consumer
        Map<Long, String> streamOf = new HashMap<>();
        Map<String, Long> lastFirstDelivery = new HashMap<>();
        Set<Long> delivered = new HashSet<>();
        Set<Long> acked = new HashSet<>();
        Set<Long> parked = new TreeSet<>();
        long now = 0;
        long position = 0;
        int deadline = 10;

        for (Step step : steps) {
            switch (step.kind()) {
                case 0, 1 -> {
                    String stream = "s" + step.a();
                    streamOf.put(position, stream);
                    ledger.received(event(position++, stream, now));
                }
                case 2 -> {
                    String c = "c" + step.b();
                    if (!room.containsKey(c)) {
                        room.put(c, 1 + step.a());
                        ledger.join(c);
                    }
                }
                case 3 -> {
                    String c = "c" + step.b();
                    if (room.remove(c) != null) {
                        assertThat(ledger.leave(c)).isTrue();
                        inFlight.values().removeIf(c::equals);
                    }
                }
                case 4, 5 -> settleOne(ledger, inFlight, acked, parked, step.a() == 0 ? Nack.RETRY : step.a() == 1 ? Nack.PARK : null);
                case 6 -> {
                    now += step.a() * 5L;
                    for (GroupLedger.Expired<String> e : ledger.expire(now, MAX_RETRIES)) {
                        assertThat(inFlight.remove(e.position())).isEqualTo(e.consumer());
                        if (e.outcome() == Outcome.PARKED_AFTER_RETRIES) {
                            parked.add(e.position());
                        }
                    }
                }
                default -> {
                }
            }
            drain(ledger, room, inFlight, streamOf, lastFirstDelivery, delivered, now + deadline);
        }

        // the consumers now ack everything, with one consumer at least
        if (room.isEmpty()) {
            room.put("last", 1);
            ledger.join("last");
        }
        drain(ledger, room, inFlight, streamOf, lastFirstDelivery, delivered, now + deadline);
        while (!inFlight.isEmpty()) {
            settleOne(ledger, inFlight, acked, parked, null);
            drain(ledger, room, inFlight, streamOf, lastFirstDelivery, delivered, now + deadline);
        }
        for (long p = 0; p < position; p++) {
            assertThat(acked.contains(p) || parked.contains(p)).as("event %d acked or parked", p).isTrue();
            assertThat(acked.contains(p) && parked.contains(p)).as("event %d not both", p).isFalse();
        }
        assertThat(ledger.parked()).containsExactlyElementsOf(parked);
        assertThat(ledger.checkpoint()).isEqualTo(position);
        assertThat(ledger.inFlightCount()).isZero();
        assertThat(ledger.buffered()).isZero();
    }

    private static void settleOne(GroupLedger<String> ledger, Map<Long, String> inFlight, Set<Long> acked, Set<Long> parked, Nack action) {
        if (inFlight.isEmpty()) {
            return;
        }
        long p = inFlight.keySet().iterator().next();
        assertThat(ledger.holder(p)).isEqualTo(inFlight.remove(p));
        Outcome outcome = ledger.settle(p, action, MAX_RETRIES);
        switch (outcome) {
            case DONE -> assertThat(acked.add(p)).isTrue();
            case PARKED, PARKED_AFTER_RETRIES -> assertThat(parked.add(p)).isTrue();
            case RETRIED -> assertThat(action).isEqualTo(Nack.RETRY);
        }
    }

    private static void drain(GroupLedger<String> ledger, Map<String, Integer> room, Map<Long, String> inFlight,
                              Map<Long, String> streamOf, Map<String, Long> lastFirstDelivery, Set<Long> delivered, long deadline) {
        Map<String, Integer> held = new HashMap<>();
        for (String c : inFlight.values()) {
            held.merge(c, 1, Integer::sum);
        }
        Assignment<String> a;
        while ((a = ledger.next(deadline, c -> held.getOrDefault(c, 0) < room.get(c))) != null) {
            long p = a.event().position();
            String stream = streamOf.get(p);
            assertThat(a.event().stream()).isEqualTo(stream);
            assertThat(room).containsKey(a.consumer());
            assertThat(inFlight.keySet()).as("never two in flight for stream " + stream)
                .noneMatch(q -> streamOf.get(q).equals(stream));
            if (delivered.add(p)) {
                Long last = lastFirstDelivery.put(stream, p);
                assertThat(last == null || last < p).as("stream %s first delivers in log order", stream).isTrue();
            }
            inFlight.put(p, a.consumer());
            held.merge(a.consumer(), 1, Integer::sum);
        }
    }

    @Test
    void theModelRunsOnAFixedScenarioToo() {
        List<Step> steps = new ArrayList<>();
        steps.add(new Step(2, 1, 0));
        steps.add(new Step(0, 0, 0));
        steps.add(new Step(0, 0, 0));
        steps.add(new Step(4, 0, 0));
        steps.add(new Step(6, 4, 0));
        steps.add(new Step(5, 1, 0));
        everyEventIsDeliveredUntilAckedOrParkedAndStreamsNeverRunTwoAtOnce(steps);
    }
}
