package io.reel.store.internal.log;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * {@code reel.lock}: one process owns a data directory. The lock is an OS file lock (released by the OS if
 * the process dies); the file's text names the holder so that a second opener's error can say who it is.
 */
public final class DirectoryLock implements AutoCloseable {
    public static final String FILE_NAME = "reel.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    public static DirectoryLock acquire(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            String holder = holder(file);
            channel.close();
            throw new ReelException(ErrorCode.LOCKED, "the data directory " + dir.toAbsolutePath() + " is in use by "
                + holder + "; stop that process (or close that store) first, or use another data directory");
        }
        String me = "pid " + ProcessHandle.current().pid() + " (" + ManagementFactory.getRuntimeMXBean().getName()
            + ") since " + Instant.now();
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(me.getBytes(StandardCharsets.UTF_8)), 0);
        channel.force(true);
        return new DirectoryLock(channel, lock);
    }

    private static String holder(Path file) {
        try {
            String text = Files.readString(file).trim();
            return text.isEmpty() ? "another process" : text;
        } catch (IOException e) {
            return "another process";
        }
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
