package io.reel.store.internal.log;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC32C helpers; one {@link CRC32C} per thread, since it is neither thread-safe nor worth allocating per call. */
public final class Crc {
    private static final ThreadLocal<CRC32C> CRC = ThreadLocal.withInitial(CRC32C::new);

    private Crc() {
    }

    public static int of(byte[] bytes, int offset, int length) {
        CRC32C crc = CRC.get();
        crc.reset();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    static int of(ByteBuffer buffer) {
        CRC32C crc = CRC.get();
        crc.reset();
        crc.update(buffer);
        return (int) crc.getValue();
    }
}
