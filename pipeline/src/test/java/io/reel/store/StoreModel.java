package io.reel.store;

import io.reel.store.internal.log.SystemStreams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The reference the store is checked against: the log as a {@link TreeMap} from position to record, the
 * streams' revisions and metadata, and the appends that succeeded, all written from the semantics the lead
 * decided rather than from the implementation:
 * <ul>
 *   <li>a stream read returns the stream's records still in the log whose revision is at or above
 *       {@code truncateBefore} and within the last {@code maxCount}, and not older than {@code maxAge}; a
 *       hard-deleted stream fails with {@code STREAM_DELETED};</li>
 *   <li>{@code $all} returns every record still in the log, {@code $$} metadata records included;</li>
 *   <li>scavenge removes from sealed segments exactly the records a stream read can no longer return, and
 *       of each {@code $$} stream every record but the latest, except a stream's last event, which it keeps
 *       (hidden) unless the stream is hard-deleted.</li>
 * </ul>
 */
final class StoreModel {
    static final String METADATA_TYPE = "$metadata";

    /** One record of the log. {@code eventId} and {@code data} are null for records Reel writes itself. */
    record Rec(long position, String stream, long revision, String type, UUID eventId, byte[] data, long timestampMicros) {
    }

    /** The expected outcome of a write: a result, or an error code (with the actual revision for a conflict). */
    record Outcome(AppendResult result, ErrorCode error, long actualRevision) {
        static Outcome ok(AppendResult r) {
            return new Outcome(r, null, 0);
        }

        static Outcome failed(ErrorCode code) {
            return new Outcome(null, code, 0);
        }

        static Outcome conflict(long actual) {
            return new Outcome(null, ErrorCode.WRONG_EXPECTED_VERSION, actual);
        }

        @Override
        public String toString() {
            return error == null ? "ok " + result : error + (error == ErrorCode.WRONG_EXPECTED_VERSION ? " (actual " + actualRevision + ")" : "");
        }
    }

    private static final class StreamState {
        long revision = -1;
        StreamMetadata metadata = StreamMetadata.NONE;
    }

    private record Append(String stream, List<UUID> ids, AppendResult result) {
    }

    /** A filter as the semantics define it, kept apart from {@link EventFilter}'s own code. */
    record Filter(List<String> prefixes, List<String> types, String streamRegex, String typeRegex) {
        static final Filter NONE = new Filter(List.of(), List.of(), null, null);

        boolean matches(Rec r) {
            boolean streamCriterion = !prefixes.isEmpty() || streamRegex != null;
            boolean streamOk = !streamCriterion || prefixes.stream().anyMatch(r.stream::startsWith)
                || (streamRegex != null && Pattern.compile(streamRegex).matcher(r.stream).find());
            boolean typeCriterion = !types.isEmpty() || typeRegex != null;
            boolean typeOk = !typeCriterion || types.contains(r.type)
                || (typeRegex != null && Pattern.compile(typeRegex).matcher(r.type).find());
            return streamOk && typeOk;
        }

        EventFilter toEventFilter() {
            return EventFilter.builder().streamPrefixes(prefixes).eventTypes(types).streamRegex(streamRegex).typeRegex(typeRegex).build();
        }

        @Override
        public String toString() {
            return "Filter{prefixes=" + prefixes + ", types=" + types + ", streamRegex=" + streamRegex + ", typeRegex=" + typeRegex + "}";
        }
    }

    final TreeMap<Long, Rec> log = new TreeMap<>();
    private final Map<String, StreamState> streams = new HashMap<>();
    private final Map<UUID, Append> appendsByFirstId = new HashMap<>();
    private final Map<UUID, String> writtenIds = new HashMap<>();
    private final Map<UUID, Long> writtenPositions = new HashMap<>();
    private long head;

    long head() {
        return head;
    }

    private StreamState state(String stream) {
        return streams.computeIfAbsent(stream, s -> new StreamState());
    }

    long revision(String stream) {
        StreamState s = streams.get(stream);
        return s == null ? -1 : s.revision;
    }

    StreamMetadata metadata(String stream) {
        StreamState s = streams.get(stream);
        return s == null ? StreamMetadata.NONE : s.metadata;
    }

    /** The successful appends, for tests that retry one of them. */
    List<AppendedEvents> appends() {
        List<AppendedEvents> list = new ArrayList<>();
        for (Append a : appendsByFirstId.values()) {
            list.add(new AppendedEvents(a.stream, a.ids));
        }
        list.sort((x, y) -> Long.compare(writtenPositions.get(x.ids().get(0)), writtenPositions.get(y.ids().get(0))));
        return list;
    }

    record AppendedEvents(String stream, List<UUID> ids) {
    }

    // ------------------------------------------------------------------------------------------- writes

    Outcome append(String stream, ExpectedRevision expected, List<EventData> events, long nowMicros) {
        return append(stream, expected, events, nowMicros, true);
    }

    /**
     * The outcomes a retry may have when scavenge removed some of the earlier append's events: the writer may
     * still remember their ids (the earlier result, or {@code INVALID_ARGUMENT} for a partial repeat), or, once
     * a restart has rebuilt its memory from the log, know only the ids still there. The first is the outcome
     * with every id remembered; {@link #appendAsNew} applies the other.
     */
    boolean retryOfScavenged(List<EventData> events) {
        for (EventData e : events) {
            Long position = writtenPositions.get(e.eventId());
            if (position != null && !log.containsKey(position)) {
                return true;
            }
        }
        return false;
    }

    /** Whether some of these ids are still in the log, written to {@code stream}. */
    boolean anyIdInLog(String stream, List<EventData> events) {
        for (EventData e : events) {
            Long position = writtenPositions.get(e.eventId());
            if (position != null && log.containsKey(position) && stream.equals(log.get(position).stream)) {
                return true;
            }
        }
        return false;
    }

    /** Appends as if none of the ids had been written before. */
    Outcome appendAsNew(String stream, ExpectedRevision expected, List<EventData> events, long nowMicros) {
        return append(stream, expected, events, nowMicros, false);
    }

    /** What {@link #append} would answer, without changing anything, when that is a result or an error. */
    Outcome peekRetry(String stream, List<EventData> events) {
        StreamState s = state(stream);
        if (s.metadata.hardDeleted()) {
            return Outcome.failed(ErrorCode.STREAM_DELETED);
        }
        List<UUID> ids = events.stream().map(EventData::eventId).toList();
        Append earlier = appendsByFirstId.get(ids.get(0));
        if (earlier != null && earlier.stream.equals(stream) && earlier.ids.equals(ids)) {
            return Outcome.ok(earlier.result);
        }
        return Outcome.failed(ErrorCode.INVALID_ARGUMENT);
    }

    private Outcome append(String stream, ExpectedRevision expected, List<EventData> events, long nowMicros, boolean recogniseRetries) {
        StreamState s = state(stream);
        if (s.metadata.hardDeleted()) {
            return Outcome.failed(ErrorCode.STREAM_DELETED);
        }
        List<UUID> ids = events.stream().map(EventData::eventId).toList();
        Append earlier = appendsByFirstId.get(ids.get(0));
        if (recogniseRetries && earlier != null && earlier.stream.equals(stream) && earlier.ids.equals(ids)) {
            return Outcome.ok(earlier.result);
        }
        for (UUID id : ids) {
            if (recogniseRetries && stream.equals(writtenIds.get(id))) {
                return Outcome.failed(ErrorCode.INVALID_ARGUMENT);
            }
        }
        if (!holds(expected, s)) {
            return Outcome.conflict(s.revision);
        }
        long first = head;
        for (EventData e : events) {
            s.revision++;
            log.put(head, new Rec(head, stream, s.revision, e.type(), e.eventId(), e.data(), nowMicros));
            writtenIds.put(e.eventId(), stream);
            writtenPositions.put(e.eventId(), head);
            head++;
        }
        AppendResult result = new AppendResult(first, head - 1, s.revision);
        appendsByFirstId.put(ids.get(0), new Append(stream, ids, result));
        return Outcome.ok(result);
    }

    Outcome setMetadata(String stream, StreamMetadata metadata, long nowMicros) {
        StreamState s = state(stream);
        if (s.metadata.hardDeleted()) {
            return Outcome.failed(ErrorCode.STREAM_DELETED);
        }
        s.metadata = metadata;
        return Outcome.ok(writeMetadataRecord(stream, nowMicros));
    }

    Outcome delete(String stream, ExpectedRevision expected, boolean hard, long nowMicros) {
        StreamState s = state(stream);
        if (s.metadata.hardDeleted()) {
            return Outcome.failed(ErrorCode.STREAM_DELETED);
        }
        if (!holds(expected, s)) {
            return Outcome.conflict(s.revision);
        }
        s.metadata = hard ? s.metadata.withHardDeleted(true) : s.metadata.withTruncateBefore(s.revision + 1).withSoftDeleted(true);
        return Outcome.ok(writeMetadataRecord(stream, nowMicros));
    }

    private AppendResult writeMetadataRecord(String stream, long nowMicros) {
        StreamState meta = state(SystemStreams.METADATA_PREFIX + stream);
        meta.revision++;
        long position = head++;
        log.put(position, new Rec(position, SystemStreams.METADATA_PREFIX + stream, meta.revision, METADATA_TYPE, null, null, nowMicros));
        return new AppendResult(position, position, meta.revision);
    }

    private static boolean softDeleted(StreamState s) {
        return s.metadata.softDeleted() && s.revision < s.metadata.truncateBefore();
    }

    private static boolean holds(ExpectedRevision expected, StreamState s) {
        if (expected.equals(ExpectedRevision.ANY)) {
            return true;
        }
        if (expected.equals(ExpectedRevision.NO_STREAM)) {
            return s.revision < 0 || softDeleted(s);
        }
        if (expected.equals(ExpectedRevision.STREAM_EXISTS)) {
            return s.revision >= 0 && !softDeleted(s);
        }
        return s.revision == expected.revision();
    }

    // -------------------------------------------------------------------------------------------- reads

    /** Whether a stream read can still return this record now. */
    private boolean readable(Rec r, long nowMicros) {
        if (r.stream.startsWith(SystemStreams.METADATA_PREFIX)) {
            return true;
        }
        StreamState s = streams.get(r.stream);
        StreamMetadata m = s.metadata;
        if (m.hardDeleted() || r.revision < m.truncateBefore()) {
            return false;
        }
        if (m.maxCount() > 0 && r.revision < s.revision + 1 - m.maxCount()) {
            return false;
        }
        return m.maxAge() == null || r.timestampMicros >= nowMicros - m.maxAge().toNanos() / 1000;
    }

    /** The stream read's result, or null when it fails with {@code STREAM_DELETED}. */
    List<Rec> readStream(String stream, long from, long maxCount, Direction direction, long nowMicros) {
        if (metadata(stream).hardDeleted()) {
            return null;
        }
        List<Rec> visible = new ArrayList<>();
        for (Rec r : log.values()) {
            if (r.stream.equals(stream) && readable(r, nowMicros)) {
                visible.add(r);
            }
        }
        List<Rec> out = new ArrayList<>();
        long limit = maxCount == 0 ? Long.MAX_VALUE : maxCount;
        if (direction == Direction.FORWARDS) {
            for (Rec r : visible) {
                if (r.revision >= from && out.size() < limit) {
                    out.add(r);
                }
            }
        } else {
            for (int i = visible.size() - 1; i >= 0; i--) {
                Rec r = visible.get(i);
                if (r.revision <= from && out.size() < limit) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    List<Rec> readAll(long from, long maxCount, Direction direction, Filter filter) {
        long limit = maxCount == 0 ? Long.MAX_VALUE : maxCount;
        List<Rec> out = new ArrayList<>();
        var range = direction == Direction.FORWARDS ? log.tailMap(from, true).values() : log.headMap(from, true).descendingMap().values();
        for (Rec r : range) {
            if (out.size() >= limit) {
                break;
            }
            if (filter.matches(r)) {
                out.add(r);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------- scavenge

    /** Removes from positions below {@code activeBase} what scavenge must remove; returns how many records. */
    long scavenge(long activeBase, long nowMicros) {
        long removed = 0;
        var it = log.headMap(activeBase, false).values().iterator();
        while (it.hasNext()) {
            Rec r = it.next();
            boolean keep = r.stream.startsWith(SystemStreams.METADATA_PREFIX)
                ? r.revision == streams.get(r.stream).revision
                : readable(r, nowMicros) || holdsRevision(r);
            if (!keep) {
                it.remove();
                removed++;
            }
        }
        return removed;
    }

    /**
     * A stream's last event survives scavenge even when reads hide it (as in EventStoreDB), unless the stream
     * is hard-deleted: the log must still tell the stream's revision (a soft delete's metadata record tells it
     * too, but a later metadata change supersedes it).
     */
    private boolean holdsRevision(Rec r) {
        StreamState s = streams.get(r.stream);
        return r.revision == s.revision && !s.metadata.hardDeleted();
    }

    // ----------------------------------------------------------------------------------------- compare

    /** A difference between what the store returned and the model's records, or null when they agree. */
    static String difference(List<RecordedEvent> actual, List<Rec> expected) {
        String diff = firstDifference(actual, expected);
        if (diff == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(diff).append("\n  store: ");
        actual.stream().limit(40).forEach(r -> b.append(r.position()).append(' ').append(r.stream()).append('@').append(r.revision()).append(", "));
        b.append("\n  model: ");
        expected.stream().limit(40).forEach(r -> b.append(r.position).append(' ').append(r.stream).append('@').append(r.revision).append(", "));
        return b.toString();
    }

    private static String firstDifference(List<RecordedEvent> actual, List<Rec> expected) {
        int n = Math.max(actual.size(), expected.size());
        for (int i = 0; i < n; i++) {
            RecordedEvent a = i < actual.size() ? actual.get(i) : null;
            Rec e = i < expected.size() ? expected.get(i) : null;
            if (a == null || e == null) {
                return "at index " + i + ": store has " + a + ", model has " + describe(e) + " (store returned " + actual.size()
                    + ", model " + expected.size() + ")";
            }
            boolean same = a.position() == e.position && a.stream().equals(e.stream) && a.revision() == e.revision
                && a.type().equals(e.type) && a.timestampMicros() == e.timestampMicros
                && (e.eventId == null || (a.eventId().equals(e.eventId) && java.util.Arrays.equals(a.data(), e.data)));
            if (!same) {
                return "at index " + i + ": store has " + a + " @" + a.timestampMicros() + ", model has " + describe(e);
            }
        }
        return null;
    }

    static String describe(Rec r) {
        return r == null ? "nothing" : "RecordedEvent{position=" + r.position + ", " + r.stream + "@" + r.revision + ", " + r.type + "} @"
            + r.timestampMicros;
    }

    static boolean sameResult(AppendResult a, AppendResult b) {
        return Objects.equals(a, b);
    }
}
