package io.reel.ops;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.util.Locale;

/** Byte sizes as the command line takes them ({@code 268435456}, {@code 64k}, {@code 256MiB}, {@code 1g}) and shows them. */
final class Sizes {
    private Sizes() {
    }

    static long parseBytes(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace("_", "");
        long unit = 1;
        String digits = t;
        String[][] suffixes = {{"kib", "1024"}, {"mib", "1048576"}, {"gib", "1073741824"}, {"kb", "1024"}, {"mb", "1048576"},
            {"gb", "1073741824"}, {"k", "1024"}, {"m", "1048576"}, {"g", "1073741824"}, {"b", "1"}};
        for (String[] s : suffixes) {
            if (t.endsWith(s[0])) {
                unit = Long.parseLong(s[1]);
                digits = t.substring(0, t.length() - s[0].length()).trim();
                break;
            }
        }
        try {
            long value = Long.parseLong(digits);
            if (value < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(value, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "'" + text + "' is not a size in bytes; write e.g. 268435456, 64k, 256m or 1g");
        }
    }

    /** {@code 1.5 GiB}, {@code 12.0 MiB}, {@code 512 B}. */
    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** A size as the command line takes it, exactly: {@code 1m}, {@code 256k}, {@code 1000}. */
    static String flag(long bytes) {
        if (bytes > 0 && bytes % (1L << 30) == 0) {
            return bytes / (1L << 30) + "g";
        }
        if (bytes > 0 && bytes % (1L << 20) == 0) {
            return bytes / (1L << 20) + "m";
        }
        if (bytes > 0 && bytes % 1024 == 0) {
            return bytes / 1024 + "k";
        }
        return Long.toString(bytes);
    }

    /** The smallest whole KiB at or above {@code bytes}, in flag syntax ({@code 1028k}): a value to type that is large enough. */
    static String flagCeil(long bytes) {
        return flag((bytes + 1023) / 1024 * 1024);
    }

    /** The largest whole KiB at or below {@code bytes}, in flag syntax: a value to type that is small enough. */
    static String flagFloor(long bytes) {
        return flag(bytes / 1024 * 1024);
    }
}
