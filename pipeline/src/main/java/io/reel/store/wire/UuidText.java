package io.reel.store.wire;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * A UUID's canonical text (8-4-4-4-12 hex digits) as bytes, written and read without a {@code String}: the event
 * id of a format-1 record and of every {@code EventData} and {@code EventRecord} on the wire. One place for the
 * store's codecs and the transport's.
 */
public final class UuidText {
    /** The length of a UUID in canonical text form. */
    public static final int LENGTH = 36;
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private UuidText() {
    }

    /** Writes the UUID {@code hi:lo} as {@link UUID#toString()} does (lower case) at {@code p}; answers the position after it. */
    public static int write(byte[] dst, int p, long hi, long lo) {
        p = putHex(dst, p, hi >>> 32, 8);
        dst[p++] = '-';
        p = putHex(dst, p, hi >>> 16, 4);
        dst[p++] = '-';
        p = putHex(dst, p, hi, 4);
        dst[p++] = '-';
        p = putHex(dst, p, lo >>> 48, 4);
        dst[p++] = '-';
        return putHex(dst, p, lo, 12);
    }

    private static int putHex(byte[] dst, int p, long value, int digits) {
        for (int i = digits - 1; i >= 0; i--) {
            dst[p + i] = HEX[(int) (value & 0xF)];
            value >>>= 4;
        }
        return p + digits;
    }

    /** Parses canonical UUID text (36 characters, either case); returns null when it is not one. */
    public static UUID parse(byte[] src, int offset, int length) {
        if (length != LENGTH || src[offset + 8] != '-' || src[offset + 13] != '-'
            || src[offset + 18] != '-' || src[offset + 23] != '-') {
            return null;
        }
        long hi = 0;
        long lo = 0;
        int digits = 0;
        for (int i = 0; i < LENGTH; i++) {
            byte c = src[offset + i];
            if (c == '-') {
                continue;
            }
            int v = hexValue(c);
            if (v < 0) {
                return null;
            }
            if (digits < 16) {
                hi = (hi << 4) | v;
            } else {
                lo = (lo << 4) | v;
            }
            digits++;
        }
        return new UUID(hi, lo);
    }

    private static int hexValue(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
