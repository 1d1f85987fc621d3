package io.reel.store;

/**
 * The stream was not at the expected revision, so nothing was written. Reload the stream and decide again.
 */
public final class WrongExpectedVersionException extends ReelException {
    private static final long serialVersionUID = 1L;

    private final String stream;
    private final ExpectedRevision expected;
    private final long actualRevision;

    public WrongExpectedVersionException(String stream, ExpectedRevision expected, long actualRevision) {
        this(stream, expected, actualRevision, false);
    }

    /** As above, for a stream that may be soft-deleted (and not written since), which the sentence then says. */
    public WrongExpectedVersionException(String stream, ExpectedRevision expected, long actualRevision, boolean softDeleted) {
        super(ErrorCode.WRONG_EXPECTED_VERSION, describe(stream, expected, actualRevision, softDeleted));
        this.stream = stream;
        this.expected = expected;
        this.actualRevision = actualRevision;
    }

    public String stream() {
        return stream;
    }

    public ExpectedRevision expected() {
        return expected;
    }

    /** The stream's revision when the append was checked: its last event number, -1 when it has no events. */
    public long actualRevision() {
        return actualRevision;
    }

    private static String describe(String stream, ExpectedRevision expected, long actual, boolean softDeleted) {
        if (softDeleted) {
            return "stream '" + stream + "' is deleted (soft-deleted at revision " + actual + "), but the request expected " + expected
                + "; nothing was written: an append with NO_STREAM or ANY recreates it, continuing at revision " + (actual + 1);
        }
        String state = actual < 0 ? "does not exist" : "is at revision " + actual;
        return "stream '" + stream + "' " + state + ", but the request expected " + expected
            + "; nothing was written: read the stream again and retry with its current revision";
    }
}
