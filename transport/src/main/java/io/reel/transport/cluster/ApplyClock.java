package io.reel.transport.cluster;

import io.reel.store.EntryOrigin;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.function.Supplier;

/**
 * The clock of a cluster node's store: the system clock, except while an entry is being applied, when it
 * reads the entry's stamp. The writer stamps records with what its clock says, and each frame with the
 * {@link EntryOrigin} of the write it holds (read through {@link #get()} as the write is submitted), so this
 * is what makes every replica write the same bytes for the same entry.
 */
final class ApplyClock extends Clock implements Supplier<EntryOrigin> {
    private final Clock system;
    private volatile Instant held;
    private volatile EntryOrigin origin;

    ApplyClock(Clock system) {
        this.system = system;
    }

    /** From now until {@link #release()}, the clock reads {@code micros} (since the epoch). */
    void hold(long micros) {
        held = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }

    /** The write submitted next belongs to the entry {@code origin} (until the next call or {@link #release()}). */
    void submitting(EntryOrigin origin) {
        this.origin = origin;
    }

    void release() {
        held = null;
        origin = null;
    }

    /** The origin of the write being submitted; null outside an entry's apply. */
    @Override
    public EntryOrigin get() {
        return origin;
    }

    @Override
    public Instant instant() {
        Instant h = held;
        return h != null ? h : system.instant();
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
