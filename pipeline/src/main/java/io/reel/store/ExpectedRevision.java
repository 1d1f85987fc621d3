package io.reel.store;

/**
 * What an append or a delete expects of its stream. A stream's revision is the number of its last event
 * (the first event is 0), or -1 when it has none.
 */
public final class ExpectedRevision {
    public enum Kind { ANY, NO_STREAM, STREAM_EXISTS, EXACT }

    /** No check: append whatever the stream's state. */
    public static final ExpectedRevision ANY = new ExpectedRevision(Kind.ANY, -1);
    /** The stream must have no events (or have been soft-deleted). */
    public static final ExpectedRevision NO_STREAM = new ExpectedRevision(Kind.NO_STREAM, -1);
    /** The stream must have at least one event. */
    public static final ExpectedRevision STREAM_EXISTS = new ExpectedRevision(Kind.STREAM_EXISTS, -1);

    private final Kind kind;
    private final long revision;

    private ExpectedRevision(Kind kind, long revision) {
        this.kind = kind;
        this.revision = revision;
    }

    /** The stream's last event must be this revision. */
    public static ExpectedRevision exactly(long revision) {
        if (revision < 0) {
            throw ReelException.invalidArgument("expected revision " + revision
                + " is negative; use NO_STREAM for a stream that must not exist yet");
        }
        return new ExpectedRevision(Kind.EXACT, revision);
    }

    public Kind kind() {
        return kind;
    }

    /** The exact revision expected, or -1 for ANY, NO_STREAM and STREAM_EXISTS. */
    public long revision() {
        return revision;
    }

    public boolean isExact() {
        return kind == Kind.EXACT;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExpectedRevision other && other.kind == kind && other.revision == revision;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Long.hashCode(revision);
    }

    @Override
    public String toString() {
        return kind == Kind.EXACT ? "revision " + revision : kind.name();
    }
}
