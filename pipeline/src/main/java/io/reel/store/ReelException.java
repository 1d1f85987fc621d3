package io.reel.store;

import java.io.IOException;
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

    public static ReelException invalidArgument(String sentence) {
        return new ReelException(ErrorCode.INVALID_ARGUMENT, sentence);
    }

    /**
     * An I/O failure as a typed error: {@code STORAGE_FULL} when the disk (or the user's quota) is full, else
     * {@code IO_ERROR}. The one place that tells the two apart, so every file Reel writes reports a full disk alike.
     */
    public static ReelException ofIo(String sentence, IOException cause) {
        return new ReelException(isDiskFull(cause) ? ErrorCode.STORAGE_FULL : ErrorCode.IO_ERROR, sentence, cause);
    }

    /** True when {@code e} says the disk or the quota is full (the JDK has no dedicated exception for it). */
    public static boolean isDiskFull(IOException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("No space left") || message.contains("Disk quota exceeded") || message.contains("not enough space");
    }
}
