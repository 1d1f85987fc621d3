package io.reel.transport.cluster;

import io.reel.proto.AppendOutcome;
import io.reel.proto.AppendRequest;
import io.reel.proto.ClusterWrite;
import io.reel.proto.DeleteStreamRequest;
import io.reel.proto.Expectation;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.StreamMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The one mapping between the writes a cluster replicates ({@code ClusterWrite}) and the store's own types,
 * both ways. The submitting node fills in every event id before an entry leaves it, so that applying the
 * entry is deterministic on every replica.
 */
final class Writes {
    private Writes() {
    }

    static ClusterWrite append(String stream, ExpectedRevision expected, List<EventData> events) {
        AppendRequest.Builder b = AppendRequest.newBuilder().setStream(stream);
        if (expected.isExact()) {
            b.setRevision(expected.revision());
        } else if (expected.equals(ExpectedRevision.NO_STREAM)) {
            b.setExpectation(Expectation.NO_STREAM);
        } else if (expected.equals(ExpectedRevision.STREAM_EXISTS)) {
            b.setExpectation(Expectation.STREAM_EXISTS);
        } else {
            b.setExpectation(Expectation.ANY);
        }
        for (EventData e : events) {
            b.addEvents(io.reel.proto.EventData.newBuilder().setEventId(e.eventId().toString()).setType(e.type())
                .setContentType(e.contentType()).setData(com.google.protobuf.ByteString.copyFrom(e.data()))
                .setMetadata(com.google.protobuf.ByteString.copyFrom(e.metadata())));
        }
        return ClusterWrite.newBuilder().setAppend(b).build();
    }

    static ClusterWrite setMetadata(String stream, StreamMetadata m) {
        return ClusterWrite.newBuilder().setSetMetadata(io.reel.proto.StreamMetadata.newBuilder().setStream(stream)
            .setMaxCount(m.maxCount()).setMaxAgeSeconds(m.maxAge() == null ? 0 : m.maxAge().toSeconds())
            .setTruncateBefore(m.truncateBefore())).build();
    }

    static ClusterWrite delete(String stream, ExpectedRevision expected, boolean hard) {
        DeleteStreamRequest.Builder b = DeleteStreamRequest.newBuilder().setStream(stream).setHard(hard);
        if (expected.isExact()) {
            b.setRevision(expected.revision());
        } else {
            b.setExpectation(expectation(expected));
        }
        return ClusterWrite.newBuilder().setDelete(b).build();
    }

    private static Expectation expectation(ExpectedRevision expected) {
        if (expected.equals(ExpectedRevision.NO_STREAM)) {
            return Expectation.NO_STREAM;
        }
        return expected.equals(ExpectedRevision.STREAM_EXISTS) ? Expectation.STREAM_EXISTS : Expectation.ANY;
    }

    static ExpectedRevision expected(boolean exact, long revision, Expectation expectation) {
        if (exact) {
            return ExpectedRevision.exactly(revision);
        }
        return switch (expectation) {
            case NO_STREAM -> ExpectedRevision.NO_STREAM;
            case STREAM_EXISTS -> ExpectedRevision.STREAM_EXISTS;
            default -> ExpectedRevision.ANY;
        };
    }

    static List<EventData> events(AppendRequest r) {
        List<EventData> events = new ArrayList<>(r.getEventsCount());
        for (io.reel.proto.EventData e : r.getEventsList()) {
            events.add(EventData.of(UUID.fromString(e.getEventId()), e.getType(), e.getContentType(), e.getData().toByteArray(),
                e.getMetadata().toByteArray()));
        }
        return events;
    }

    static StreamMetadata metadata(io.reel.proto.StreamMetadata m) {
        return new StreamMetadata(m.getMaxCount(), m.getMaxAgeSeconds() == 0 ? null : Duration.ofSeconds(m.getMaxAgeSeconds()),
            m.getTruncateBefore(), false, false);
    }

    static AppendOutcome outcome(AppendResult r) {
        return AppendOutcome.newBuilder().setResult(io.reel.proto.AppendResult.newBuilder().setFirstPosition(r.firstPosition())
            .setLastPosition(r.lastPosition()).setNextExpectedRevision(r.nextExpectedRevision())).build();
    }

    static AppendOutcome outcome(Throwable failure) {
        ErrorCode code = failure instanceof ReelException re ? re.code() : ErrorCode.INTERNAL;
        String sentence = failure instanceof ReelException re ? re.sentence() : String.valueOf(failure);
        return AppendOutcome.newBuilder().setError(io.reel.proto.Error.newBuilder().setCode(code.name()).setMessage(sentence)).build();
    }

    /** The outcome as the submitting node's client sees it: the result, or the error it carries. */
    static AppendResult result(AppendOutcome o) {
        if (o.hasError()) {
            ErrorCode code;
            try {
                code = ErrorCode.valueOf(o.getError().getCode());
            } catch (IllegalArgumentException unknown) {
                code = ErrorCode.INTERNAL;
            }
            throw new ReelException(code, o.getError().getMessage());
        }
        io.reel.proto.AppendResult r = o.getResult();
        return new AppendResult(r.getFirstPosition(), r.getLastPosition(), r.getNextExpectedRevision());
    }
}
