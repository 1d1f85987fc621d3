package io.reel.store;

import java.util.Objects;

/**
 * A failure with a stable {@link ErrorCode}. The message is always {@code "CODE: sentence"}, where the
 * sentence says what happened, to which stream, file or position, and what to do about it.
 */
public class ReelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public ReelException(ErrorCode code, String sentence) {
        this(code, sentence, null);
    }

    public ReelException(ErrorCode code, String sentence, Throwable cause) {
        super(Objects.requireNonNull(code, "code") + ": " + sentence, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    /** The message without its {@code "CODE: "} prefix. */
    public String sentence() {
        return getMessage().substring(code.name().length() + 2);
    }

    static ReelException invalidArgument(String sentence) {
        return new ReelException(ErrorCode.INVALID_ARGUMENT, sentence);
    }
}
