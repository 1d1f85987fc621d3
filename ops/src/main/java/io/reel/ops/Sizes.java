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
}
