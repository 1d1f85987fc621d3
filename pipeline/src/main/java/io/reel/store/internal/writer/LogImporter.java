package io.reel.store.internal.writer;

import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.StreamMetadata;
import io.reel.store.internal.log.FrameReader;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.Segment;
import io.reel.store.internal.log.SystemStreams;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Continues this store's log with the frames of another replica of it (a cluster snapshot's segment files,
 * see {@code LogCopy}): the frames from this log's head up to a given position are read, checked (length,
 * CRC32C, records) and handed to the writer as they are, so they land at the same positions with the same
 * bytes, and the index, the idempotency window and live subscribers see them as they see appends.
 *
 * <p>Blocks its caller until the frames are written: never call it on a Reactor or Netty thread.
 */
public final class LogImporter {
    private static final int WINDOW_FRAMES = 128;
    private static final Duration WRITE_TIMEOUT = Duration.ofMinutes(1);

    private final WriterStage writer;
    private final long windowBytes;
    private final List<CompletableFuture<AppendResult>> pending = new ArrayList<>();
    private long pendingBytes;

    public LogImporter(WriterStage writer, long writerQueueBytes) {
        this.writer = writer;
        this.windowBytes = Math.max(1, writerQueueBytes / 2);
    }

    /**
     * Writes the frames of positions [{@code from}, {@code upTo}) found in the segment files of {@code dir}; returns
     * how many records it wrote. {@code from} must be this log's head and a frame boundary of the source.
     */
    public long importFrames(Path dir, long from, long upTo) throws IOException {
        if (upTo <= from) {
            return 0;
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> LogFormat.baseOf(p) >= 0).sorted((a, b) -> Long.compare(LogFormat.baseOf(a), LogFormat.baseOf(b))).toList();
        }
        if (files.isEmpty() || LogFormat.baseOf(files.get(0)) > from) {
            throw new ReelException(ErrorCode.CORRUPTED, "the log copy in " + dir + " starts at position "
                + (files.isEmpty() ? "(none: no segment files)" : LogFormat.baseOf(files.get(0))) + ", after this log's head " + from
                + "; it cannot continue this log");
        }
        long next = from;
        for (int i = 0; i < files.size() && next < upTo; i++) {
            if (i + 1 < files.size() && LogFormat.baseOf(files.get(i + 1)) <= next) {
                continue;
            }
            next = importSegment(files.get(i), next, upTo);
        }
        drain(pending.size());
        if (next != upTo) {
            throw new ReelException(ErrorCode.CORRUPTED, "the log copy in " + dir + " ends at position " + next + ", before " + upTo
                + "; it is incomplete");
        }
        return upTo - from;
    }

    private long importSegment(Path file, long next, long upTo) throws IOException {
        Segment segment = Segment.open(file, false);
        try {
            if (segment.formatVersion() < LogFormat.FORMAT_V2) {
                throw new ReelException(ErrorCode.CORRUPTED, file + " is in log format " + segment.formatVersion()
                    + "; only format-2 segments (one frame per append) can be imported");
            }
            FrameReader reader = new FrameReader(segment, LogFormat.SEGMENT_HEADER_SIZE, Long.MAX_VALUE, 1 << 20, true);
            reader.skipFramesBefore(next);
            List<UUID> ids = new ArrayList<>();
            while (next < upTo) {
                FrameReader.Status status = reader.next();
                if (status == FrameReader.Status.END) {
                    return next;
                }
                if (status != FrameReader.Status.FRAME) {
                    throw Segment.damaged(file, reader.frameOffset(), next, "frame " + status + " in a log copy");
                }
                RecordedEvent first = reader.record();
                RecordedEvent last = first;
                ids.clear();
                ids.add(first.eventId());
                while (reader.continued()) {
                    if (reader.next() != FrameReader.Status.FRAME) {
                        throw Segment.damaged(file, reader.frameOffset(), next, "a frame whose records end early");
                    }
                    last = reader.record();
                    ids.add(last.eventId());
                }
                long firstPosition = first.position();
                int count = ids.size();
                if (firstPosition + count <= next) {
                    continue;
                }
                if (firstPosition != next || firstPosition + count > upTo) {
                    throw new ReelException(ErrorCode.CORRUPTED, "the frame at offset " + reader.frameOffset() + " of " + file
                        + " holds positions " + firstPosition + ".." + (firstPosition + count - 1) + ", which do not start at " + next
                        + " or pass " + upTo + ": the copy is not of this log, or this log is not a prefix of it");
                }
                byte[] bytes = new byte[(int) (reader.frameEnd() - reader.frameOffset())];
                if (segment.read(ByteBuffer.wrap(bytes), reader.frameOffset()) != bytes.length) {
                    throw Segment.damaged(file, reader.frameOffset(), next, "a frame that ends past the file");
                }
                StreamMetadata metadata = SystemStreams.isMetadataStream(first.stream()) && SystemStreams.METADATA_TYPE.equals(last.type())
                    ? SystemStreams.decode(last) : null;
                AppendCommand.ImportedFrame frame = new AppendCommand.ImportedFrame(bytes, firstPosition, first.revision(), count,
                    first.timestampMicros(), List.copyOf(ids), metadata);
                submit(AppendCommand.importFrame(first.stream(), frame), bytes.length);
                next = firstPosition + count;
            }
            return next;
        } finally {
            segment.release();
        }
    }

    private void submit(AppendCommand command, long bytes) {
        if (pending.size() >= WINDOW_FRAMES || (pendingBytes + bytes > windowBytes && !pending.isEmpty())) {
            drain(pending.size());
        }
        pending.add(writer.submit(command).toFuture());
        pendingBytes += bytes;
    }

    private void drain(int n) {
        try {
            for (int i = 0; i < n; i++) {
                pending.get(i).get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof ReelException re ? new ReelException(re.code(), "importing a log copy failed: " + re.sentence(), re)
                : new ReelException(ErrorCode.INTERNAL, "importing a log copy failed: " + cause, cause);
        } catch (TimeoutException e) {
            throw new ReelException(ErrorCode.IO_ERROR, "the writer did not write an imported frame within " + WRITE_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReelException(ErrorCode.CLOSED, "interrupted while importing a log copy", e);
        } finally {
            pending.subList(0, n).clear();
            pendingBytes = 0;
        }
    }
}
