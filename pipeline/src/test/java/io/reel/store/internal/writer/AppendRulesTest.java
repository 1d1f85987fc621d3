package io.reel.store.internal.writer;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.internal.writer.AppendRules.Fit;
import io.reel.store.internal.writer.AppendRules.Written;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class AppendRulesTest {
    private static final long SEGMENT = 1_000;
    private static final long HEADER = 64;

    @Test
    void fitsWhenTheBatchAndTheCommandStayInTheSegment() {
        assertThat(AppendRules.fit(HEADER, 100, 836, SEGMENT, HEADER)).isEqualTo(Fit.FITS);
        assertThat(AppendRules.fit(HEADER, 100, 837, SEGMENT, HEADER)).isEqualTo(Fit.NEXT_BATCH);
        assertThat(AppendRules.fit(500, 0, 501, SEGMENT, HEADER)).isEqualTo(Fit.ROLL);
        assertThat(AppendRules.fit(HEADER, 0, SEGMENT, SEGMENT, HEADER)).isEqualTo(Fit.TOO_LARGE);
    }

    @Test
    void expectationsOnAbsentExistingAndSoftDeletedStreams() {
        assertThat(AppendRules.expectationHolds(ExpectedRevision.NO_STREAM, -1, false)).isTrue();
        assertThat(AppendRules.expectationHolds(ExpectedRevision.NO_STREAM, 3, false)).isFalse();
        assertThat(AppendRules.expectationHolds(ExpectedRevision.NO_STREAM, 3, true)).isTrue();
        assertThat(AppendRules.expectationHolds(ExpectedRevision.STREAM_EXISTS, 0, false)).isTrue();
        assertThat(AppendRules.expectationHolds(ExpectedRevision.STREAM_EXISTS, 3, true)).isFalse();
        assertThat(AppendRules.expectationHolds(ExpectedRevision.exactly(3), 3, false)).isTrue();
        assertThat(AppendRules.expectationHolds(ExpectedRevision.exactly(2), 3, false)).isFalse();
        assertThat(AppendRules.expectationHolds(ExpectedRevision.ANY, -1, true)).isTrue();
    }

    @Test
    void anExactRepeatIsWholeAPrefixIsPartialAnOtherIdIsNew() {
        Log log = new Log();
        List<EventData> first = log.append("a", 2);
        List<EventData> second = log.append("a", 3);
        assertThat(AppendRules.repeatOf(second, "a", 2, log::at)).isInstanceOf(AppendRules.WholeRepeat.class);
        assertThat(((AppendRules.WholeRepeat) AppendRules.repeatOf(second, "a", 2, log::at)).last().revision()).isEqualTo(4);
        assertThat(AppendRules.repeatOf(second.subList(0, 2), "a", 2, log::at)).isInstanceOf(AppendRules.PartialRepeat.class);
        assertThat(AppendRules.repeatOf(List.of(first.get(1), second.get(0)), "a", 1, log::at))
            .isInstanceOf(AppendRules.PartialRepeat.class);
        assertThat(AppendRules.repeatOf(second, "b", 2, log::at)).isInstanceOf(AppendRules.NotARepeat.class);
        assertThat(AppendRules.repeatOf(List.of(event()), "a", 0, log::at)).isInstanceOf(AppendRules.NotARepeat.class);
    }

    /** The fit decision against its definition: a command goes in only when everything fits; a lone command never waits. */
    @Property
    void fitMatchesTheSegmentArithmetic(@ForAll @LongRange(min = HEADER, max = SEGMENT) long writeOffset,
                                        @ForAll @LongRange(min = 0, max = SEGMENT) long batchBytes,
                                        @ForAll @LongRange(min = 1, max = 2 * SEGMENT) long commandBytes) {
        Fit fit = AppendRules.fit(writeOffset, batchBytes, commandBytes, SEGMENT, HEADER);
        boolean fits = writeOffset + batchBytes + commandBytes <= SEGMENT;
        assertThat(fit == Fit.FITS).isEqualTo(fits);
        if (!fits) {
            assertThat(fit == Fit.NEXT_BATCH).isEqualTo(batchBytes > 0);
            assertThat(fit == Fit.TOO_LARGE).isEqualTo(batchBytes == 0 && writeOffset == HEADER);
        }
    }

    /**
     * Against a model log (a list of appends): repeating any earlier append exactly is a whole repeat ending at its
     * last revision, repeating all but its last event is partial, and a fresh id is new.
     */
    @Property(tries = 200)
    void repeatsAgainstAModelLog(@ForAll("sizes") List<Integer> sizes, @ForAll @IntRange(min = 0, max = 1000) int pick) {
        Log log = new Log();
        List<List<EventData>> appends = new ArrayList<>();
        List<Long> starts = new ArrayList<>();
        for (int i = 0; i < sizes.size(); i++) {
            starts.add((long) log.written.size());
            appends.add(log.append(i % 2 == 0 ? "a" : "b", sizes.get(i)));
        }
        int k = pick % appends.size();
        List<EventData> again = appends.get(k);
        String stream = k % 2 == 0 ? "a" : "b";
        long start = starts.get(k);
        AppendRules.Repeat whole = AppendRules.repeatOf(again, stream, start, log::at);
        assertThat(whole).isInstanceOf(AppendRules.WholeRepeat.class);
        assertThat(((AppendRules.WholeRepeat) whole).last()).isEqualTo(log.at(start + again.size() - 1));
        if (again.size() > 1) {
            assertThat(AppendRules.repeatOf(again.subList(0, again.size() - 1), stream, start, log::at))
                .isInstanceOf(AppendRules.PartialRepeat.class);
        }
        assertThat(AppendRules.repeatOf(List.of(event()), stream, start, log::at)).isInstanceOf(AppendRules.NotARepeat.class);
    }

    @Provide
    Arbitrary<List<Integer>> sizes() {
        return Arbitraries.integers().between(1, 4).list().ofMinSize(1).ofMaxSize(8);
    }

    private static EventData event() {
        return EventData.of(UUID.randomUUID(), "Thing", EventData.OCTET_STREAM, new byte[0], null);
    }

    /** A model of the log: each position's event, and each stream's last revision. */
    private static final class Log {
        final List<Written> written = new ArrayList<>();
        final Map<String, Long> revisions = new HashMap<>();

        List<EventData> append(String stream, int count) {
            List<EventData> events = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                EventData e = event();
                long revision = revisions.merge(stream, 0L, (r, zero) -> r + 1);
                written.add(new Written(e.eventId(), stream, revision, i == count - 1, null));
                events.add(e);
            }
            return events;
        }

        Written at(long position) {
            return position < 0 || position >= written.size() ? null : written.get((int) position);
        }
    }
}
