package io.reel.store.internal.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A copy of the log's segments as they stand at its head, for another replica of the log to continue its own
 * from (a cluster snapshot): sealed segments are hard-linked (they never change; scavenge swaps in a new file
 * rather than writing one), the segment holding the head is copied up to the head's last whole frame. The copy
 * has the segment files' own names and format ({@link LogFormat}), so the reader of a log reads it.
 */
public final class LogCopy {
    private LogCopy() {
    }

    /**
     * Links or copies the segments of {@code log} up to its head into {@code dest} (created), forced; returns
     * the head the copy holds. Safe while the writer appends: the head is read first and only whole frames
     * below it are copied.
     */
    public static long copyTo(Log log, Path dest) throws IOException {
        Files.createDirectories(dest);
        Log.Head head = log.head();
        for (Segment segment : log.segments()) {
            if (segment.basePosition() > head.segmentBase() || !segment.retain()) {
                continue;
            }
            try {
                Path target = dest.resolve(segment.path().getFileName());
                if (segment.basePosition() < head.segmentBase()) {
                    Files.createLink(target, segment.path());
                } else {
                    copyPrefix(segment, head.endOffset(), target);
                }
            } finally {
                segment.release();
            }
        }
        Directories.force(dest);
        return head.position();
    }

    private static void copyPrefix(Segment segment, long end, Path target) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long at = 0; at < end; ) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), end - at));
                int n = segment.read(buffer, at);
                if (n <= 0) {
                    throw new IOException(segment.path() + " ends at " + at + ", before the head's offset " + end);
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    out.write(buffer, at + buffer.position());
                }
                at += n;
            }
            out.force(true);
        }
    }
}
