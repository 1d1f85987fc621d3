package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.reel.store.internal.log.DirectoryLock;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link StoreAdmin#stats} probes {@code reel.lock} without write access and without an exclusive lock: it names a
 * store open in another process, and does not take another probe (a shared lock) for a server.
 */
@Timeout(60)
class StatsLockProbeTest {
    @TempDir
    Path dir;

    @Test
    void aStoreOpenInAnotherProcessIsNamedAsTheHolder() throws Exception {
        Process child = holder("store");
        try {
            String holder = StoreAdmin.stats(dir).lockHolder();
            assertThat(holder).isNotNull().contains("pid " + child.pid());
        } finally {
            release(child);
        }
        assertThat(StoreAdmin.stats(dir).lockHolder()).isNull();
    }

    @Test
    void anotherProbeAtTheSameMomentIsNotTakenForAServer() throws Exception {
        EventStore.open(dir).close();
        Process child = holder("shared");
        try {
            assertThat(StoreAdmin.stats(dir).lockHolder()).as("a shared lock beside ours is another stats, not an owner").isNull();
        } finally {
            release(child);
        }
    }

    @Test
    void aLockFileTheUserCannotWriteIsProbed() throws Exception {
        EventStore.open(dir).close();
        Path lock = dir.resolve(DirectoryLock.FILE_NAME);
        Files.setPosixFilePermissions(lock, PosixFilePermissions.fromString("r--r--r--"));
        assumeFalse(Files.isWritable(lock), "root writes any file, so only a test run by another user shows this");
        assertThat(StoreAdmin.stats(dir).lockHolder()).isNull();
    }

    /** Starts {@link LockHolder} in a child JVM and returns once it holds the lock. */
    private Process holder(String mode) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        File errors = Files.createTempFile("lock-holder", ".err").toFile();
        Process child = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(),
            dir.toString(), mode).redirectError(errors).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("the holder's first line; its errors: %s", Files.readString(errors.toPath())).isEqualTo("locked");
        return child;
    }

    private static void release(Process child) throws Exception {
        child.getOutputStream().close();
        if (!child.waitFor(30, TimeUnit.SECONDS)) {
            child.destroyForcibly();
        }
    }
}
