package io.reel.transport.internal;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.rsocket.RSocketErrorException;
import io.rsocket.exceptions.ApplicationErrorException;
import io.rsocket.exceptions.RejectedSetupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Errors across the wire: every error text is {@code "CODE: sentence"} with a code of {@link ErrorCode}. */
public final class WireErrors {
    private static final Logger LOG = LoggerFactory.getLogger(WireErrors.class);

    private WireErrors() {
    }

    public static ReelException invalid(String sentence) {
        return new ReelException(ErrorCode.INVALID_ARGUMENT, sentence);
    }

    /** The text a server sends for a failure: the {@link ReelException}'s own, else {@code INTERNAL}. */
    static String text(Throwable error) {
        if (error instanceof ReelException re) {
            return re.getMessage();
        }
        LOG.warn("unexpected failure while serving a request", error);
        return ErrorCode.INTERNAL + ": " + error + " (a bug in Reel: please report it with this message)";
    }

    /** As an RSocket application error (an ERROR frame for that request only). */
    static ApplicationErrorException toApplicationError(Throwable error) {
        if (error instanceof ApplicationErrorException ae) {
            return ae;
        }
        return new ApplicationErrorException(text(error));
    }

    /**
     * A failure a client received, as the {@link ReelException} it stands for, or null when it is not an
     * error the server sent (a transport failure: closed connection, refused connect...).
     */
    public static ReelException fromServer(Throwable error) {
        if (error instanceof ReelException re) {
            return re;
        }
        if (error instanceof ApplicationErrorException || error instanceof RejectedSetupException) {
            return parse(error.getMessage(), error);
        }
        if (error instanceof RSocketErrorException && !(error instanceof io.rsocket.exceptions.ConnectionErrorException)
            && !(error instanceof io.rsocket.exceptions.ConnectionCloseException)) {
            return parse(error.getMessage(), error);
        }
        return null;
    }

    static ReelException parse(String message, Throwable cause) {
        String text = message == null ? "" : message;
        int colon = text.indexOf(": ");
        if (colon > 0) {
            try {
                ErrorCode code = ErrorCode.valueOf(text.substring(0, colon));
                return new ReelException(code, text.substring(colon + 2), cause);
            } catch (IllegalArgumentException notACode) {
                // fall through
            }
        }
        return new ReelException(ErrorCode.INTERNAL, "the server answered '" + text + "', which is not a Reel error", cause);
    }
}
