package io.reel.transport.cluster;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The clock of a cluster node's store: the system clock, except while an entry is being applied, when it
 * reads the entry's stamp. The writer stamps records with what its clock says, so this is what makes every
 * replica write the same bytes for the same entry.
 */
final class ApplyClock extends Clock {
    private final Clock system;
    private volatile Instant held;

    ApplyClock(Clock system) {
        this.system = system;
    }

    /** From now until {@link #release()}, the clock reads {@code micros} (since the epoch). */
    void hold(long micros) {
        held = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }

    void release() {
        held = null;
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
