package io.reel.store.internal.writer;

import java.util.function.BooleanSupplier;

/**
 * How the writer thread waits a few microseconds for work before it parks (the middle of Aeron's
 * {@code BackoffIdleStrategy}: spin, then yield, then park). Work that comes back within microseconds (a
 * producer awaiting each acknowledgement) is caught without the futex wake-up that unparking costs; after
 * the first spins the thread yields instead of spinning on, so that on a machine with fewer cores than busy
 * threads (a cluster node beside its Raft threads, several nodes on one host) the wait hands the core to
 * threads that have work, and burns it only when nobody else wants it.
 *
 * <p>The writer waits this way; the acknowledging thread spins on: yielding there put 20–50 µs on the p50 of
 * {@code reel bench e2e --remote} (an acknowledgement waits behind whichever thread got the core).
 */
final class BriefWait {
    /** Busy spins before yielding: a few microseconds, what a producer on an idle core needs to come back. */
    private static final int SPINS = 100;

    private BriefWait() {
    }

    /** Waits until {@code ready} holds or {@code deadlineNanos} (a {@link System#nanoTime()} value) passes; true if it held. */
    static boolean until(long deadlineNanos, BooleanSupplier ready) {
        for (int i = 0; ; i++) {
            if (ready.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() - deadlineNanos >= 0) {
                return false;
            }
            if (i < SPINS) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
