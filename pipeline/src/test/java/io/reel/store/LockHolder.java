package io.reel.store;

import io.reel.store.internal.log.DirectoryLock;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The child process of {@link StatsLockProbeTest}: holds the lock of a data directory as {@code mode} says
 * ({@code store}: an open store, as a server holds it; {@code shared}: a shared lock, as {@link StoreAdmin#stats}
 * probes it), prints {@code locked}, and holds it until its standard input ends.
 */
public final class LockHolder {
    private LockHolder() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        if (args[1].equals("store")) {
            try (EventStore store = EventStore.open(dir)) {
                holdUntilStdinEnds();
            }
        } else {
            try (FileChannel ch = FileChannel.open(dir.resolve(DirectoryLock.FILE_NAME), StandardOpenOption.READ);
                 var lock = ch.tryLock(0, Long.MAX_VALUE, true)) {
                if (lock == null) {
                    throw new IllegalStateException("no shared lock on " + dir);
                }
                holdUntilStdinEnds();
            }
        }
    }

    private static void holdUntilStdinEnds() throws java.io.IOException {
        System.out.println("locked");
        System.out.flush();
        while (System.in.read() >= 0) {
            // held until the test closes our standard input
        }
    }
}
