package io.reel.store.internal.log;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** File-system steps that make a rename or a new file durable. */
public final class Directories {
    private Directories() {
    }

    /** Forces a directory, so that files created or renamed in it survive a power loss. */
    public static void force(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems do not let a directory be opened for force; the rename is then as durable as they make it.
            if (!(e instanceof java.nio.file.AccessDeniedException) && !String.valueOf(e.getMessage()).contains("Is a directory")) {
                throw e;
            }
        }
    }
}
