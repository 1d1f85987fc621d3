package io.reel.store.internal.log;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * UTF-8 encodings of the strings every event repeats (types, content types), shared instead of encoded per
 * event: an application has a few dozen event types, and a million events of one type need one copy of its
 * name, not a million. Bounded: past {@value #MAX_ENTRIES} distinct strings, new ones are encoded each time.
 * The arrays are shared: never write to them.
 */
public final class Utf8 {
    private static final int MAX_ENTRIES = 4096;
    private static final ConcurrentHashMap<String, byte[]> SHARED = new ConcurrentHashMap<>();

    private Utf8() {
    }

    public static byte[] of(String s) {
        byte[] b = SHARED.get(s);
        if (b == null) {
            b = s.getBytes(StandardCharsets.UTF_8);
            if (SHARED.size() < MAX_ENTRIES) {
                byte[] raced = SHARED.putIfAbsent(s, b);
                if (raced != null) {
                    b = raced;
                }
            }
        }
        return b;
    }
}
