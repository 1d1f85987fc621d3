package io.reel.ops;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks the admin verbs make on the directories they are given, before touching anything. */
final class DataDirs {
    private DataDirs() {
    }

    /** A directory that holds a Reel log; fails with {@code INVALID_ARGUMENT} saying what is wrong otherwise. */
    static Path requireDataDir(Path dir, String flag) {
        if (!Files.exists(dir)) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, dir.toAbsolutePath() + " does not exist; give an existing data directory ("
                + flag + ")");
        }
        if (!Files.isDirectory(dir)) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, dir.toAbsolutePath() + " is a file; give a data directory (" + flag + ")");
        }
        if (!Files.isDirectory(dir.resolve("log"))) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, dir.toAbsolutePath() + " has no log/ directory, so it is not a Reel data "
                + "directory (or a backup); check " + flag);
        }
        return dir;
    }
}
