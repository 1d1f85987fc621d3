package io.reel.store.internal.writer;

import io.reel.store.Progress;
import io.reel.store.RecordedEvent;
import io.reel.store.ScavengeReport;
import io.reel.store.StoreSettings;
import io.reel.store.StreamMetadata;
import io.reel.store.internal.index.StreamIndex;
import io.reel.store.internal.log.Directories;
import io.reel.store.internal.log.FrameCodec;
import io.reel.store.internal.log.FrameReader;
import io.reel.store.internal.log.Log;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.OffsetIndex;
import io.reel.store.internal.log.RecentRecords;
import io.reel.store.internal.log.Segment;
import io.reel.store.internal.log.SystemStreams;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scavenge: reclaims the bytes of records no read can return any more, and applies whole-segment retention.
 *
 * <p>Only sealed segments are touched (the writer owns the active one). A segment with something to drop is
 * copied, frame by frame and byte for byte, without the unreadable records into a temporary file, which is
 * forced and renamed over the original; the log's segment list then points at the new file. Readers that
 * had the old file open go on reading it (it stays open until they release it), so no reader ever sees a
 * half-written segment, and every surviving record keeps its position. The recent-records cache stops serving
 * the positions of a rewritten segment, so that no reader gets from memory a record the files no longer have.
 *
 * <p>A record is unreadable when its stream is hard-deleted, or it is below the stream's
 * {@code truncateBefore} (which a soft delete sets), or outside {@code maxCount}, or older than
 * {@code maxAge}; of a metadata stream ({@code $$<stream>}) only the latest record, the one in force, is kept.
 * One unreadable record is kept all the same, as EventStoreDB does: a stream's last event, unless the stream is
 * hard-deleted. The stream's revision is known from the log only through it (the stream index is rebuilt from
 * the log), and losing it would let the next append reuse revision 0 and vanish behind the stream's own
 * {@code truncateBefore}; reads still hide it. Soft-deleted streams keep it too: the delete's metadata record
 * also tells the revision, but a later metadata change supersedes it and scavenge then drops it (a model-based
 * property found a stream that restarted at revision 0 that way).
 * Retention then drops whole sealed segments, oldest first: those whose newest record is older than
 * {@link StoreSettings#retainAge()}, and while the log is larger than {@link StoreSettings#retainBytes()}.
 */
public final class Scavenger {
    private static final Logger LOG = LoggerFactory.getLogger(Scavenger.class);

    private final Log log;
    private final StreamIndex index;
    private final RecentRecords recent;
    private final StoreSettings settings;

    public Scavenger(Log log, StreamIndex index, RecentRecords recent, StoreSettings settings) {
        this.log = log;
        this.index = index;
        this.recent = recent;
        this.settings = settings;
    }

    /** The segment file's size for progress; 0 when a concurrent drop removed it. */
    private static long fileSize(Segment segment) {
        try {
            return java.nio.file.Files.size(segment.path());
        } catch (IOException e) {
            return 0;
        }
    }

    public ScavengeReport run() throws IOException {
        long nowMicros = LogFormat.micros(settings.clock().instant());
        int rewritten = 0;
        long removed = 0;
        long reclaimed = 0;
        Segment[] segments = log.segments();
        long[] sizes = new long[segments.length];
        long totalBytes = 0;
        for (int i = 0; i < segments.length - 1; i++) {
            sizes[i] = fileSize(segments[i]);
            totalBytes += sizes[i];
        }
        long bytesDone = 0;
        for (int i = 0; i < segments.length - 1; i++) {
            Segment segment = segments[i];
            settings.progress().update(new Progress.Step("scavenge", "bytes", bytesDone, totalBytes, i, segments.length - 1));
            bytesDone += sizes[i];
            if (!segment.retain()) {
                continue;
            }
            try {
                Rewrite r = rewrite(segment, nowMicros);
                if (r != null) {
                    recent.forgetBelow(segments[i + 1].basePosition());
                    rewritten++;
                    removed += r.removed;
                    reclaimed += r.reclaimed;
                }
            } finally {
                segment.release();
            }
        }
        settings.progress().update(new Progress.Step("scavenge", "bytes", totalBytes, totalBytes, segments.length - 1, segments.length - 1));
        int dropped = 0;
        for (Segment segment : retentionVictims(nowMicros)) {
            long size = segment.size();
            long records = log.offsetIndex(segment).lastPosition() - segment.basePosition() + 1;
            if (log.dropOldest(segment)) {
                recent.forgetBelow(log.segments()[0].basePosition());
                dropped++;
                reclaimed += size;
                removed += Math.max(0, records);
            }
        }
        ScavengeReport report = new ScavengeReport(rewritten, dropped, removed, reclaimed);
        LOG.info("scavenge: {} segment(s) rewritten, {} dropped by retention, {} record(s) removed, {} bytes reclaimed",
            rewritten, dropped, removed, reclaimed);
        return report;
    }

    private record Rewrite(long removed, long reclaimed) {
    }

    /**
     * Rewrites a sealed segment without its unreadable records, in the current format: one frame per append
     * holding the records of the append that survive, each keeping its position (format 2's deltas). Two
     * passes, so that memory holds one append at a time: the first decides, the second writes.
     */
    private Rewrite rewrite(Segment segment, long nowMicros) throws IOException {
        long size = segment.size();
        java.util.BitSet dropped = new java.util.BitSet();
        long removed = 0;
        FrameReader reader = new FrameReader(segment, LogFormat.SEGMENT_HEADER_SIZE, size, 1 << 20, false);
        while (true) {
            FrameReader.Status status = reader.next();
            if (status == FrameReader.Status.END) {
                break;
            }
            if (status != FrameReader.Status.FRAME) {
                throw Segment.damaged(segment.path(), reader.frameOffset(), -1, "cannot scavenge a damaged segment: frame "
                    + status.name().toLowerCase().replace('_', ' '));
            }
            RecordedEvent record = reader.record();
            if (!readable(record, nowMicros)) {
                dropped.set((int) (record.position() - segment.basePosition()));
                removed++;
            }
        }
        if (removed == 0) {
            return null;
        }
        Path original = segment.path();
        Path tmp = original.resolveSibling(original.getFileName() + ".scavenge.tmp");
        OffsetIndex newIndex = OffsetIndex.empty(segment.basePosition());
        long end = LogFormat.SEGMENT_HEADER_SIZE;
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.wrap(Segment.header(segment.basePosition(), System.currentTimeMillis(), LogFormat.FORMAT_VERSION)), 0);
            reader = new FrameReader(segment, LogFormat.SEGMENT_HEADER_SIZE, size, 1 << 20, true);
            List<RecordedEvent> append = new ArrayList<>();
            FrameReader.Status status;
            while ((status = reader.next()) != FrameReader.Status.END) {
                if (status != FrameReader.Status.FRAME) {
                    throw Segment.damaged(segment.path(), reader.frameOffset(), -1, "cannot scavenge a damaged segment: frame "
                        + status.name().toLowerCase().replace('_', ' '));
                }
                RecordedEvent record = reader.record();
                if (!dropped.get((int) (record.position() - segment.basePosition()))) {
                    append.add(record);
                }
                if (reader.continued() || append.isEmpty()) {
                    continue;
                }
                ByteBuffer frame = ByteBuffer.wrap(FrameCodec.encodeRecords(append));
                long at = end;
                while (frame.hasRemaining()) {
                    end += out.write(frame, end);
                }
                RecordedEvent first = append.get(0);
                RecordedEvent last = append.get(append.size() - 1);
                newIndex.onFrame(first.position(), at, end, first.timestampMicros());
                if (last != first) {
                    newIndex.onFrame(last.position(), at, end, last.timestampMicros());
                }
                append.clear();
            }
            out.force(true);
        }
        Path indexFile = original.resolveSibling(LogFormat.indexFileName(segment.basePosition()));
        Files.move(tmp, original, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Directories.force(original.getParent());
        Segment replacement = Segment.open(original, false);
        replacement.offsetIndex(newIndex);
        newIndex.write(indexFile);
        log.replaceSegment(segment, replacement);
        return new Rewrite(removed, size - end);
    }

    private boolean readable(RecordedEvent record, long nowMicros) {
        String stream = record.stream();
        StreamIndex.StreamEntry entry = index.get(stream);
        if (SystemStreams.isMetadataStream(stream)) {
            return entry == null || record.revision() >= entry.endRevision() - 1;
        }
        StreamMetadata m = entry == null ? StreamMetadata.NONE : entry.metadata();
        if (m.hardDeleted()) {
            return false;
        }
        long revision = record.revision();
        if (entry != null && revision == entry.endRevision() - 1) {
            return true;
        }
        if (revision < m.truncateBefore()) {
            return false;
        }
        if (m.maxCount() > 0 && entry != null && revision < entry.endRevision() - m.maxCount()) {
            return false;
        }
        return record.timestampMicros() >= LogFormat.ageCutoffMicros(nowMicros, m.maxAge());
    }

    /** Sealed segments retention drops, oldest first. */
    private List<Segment> retentionVictims(long nowMicros) throws IOException {
        List<Segment> victims = new ArrayList<>();
        Segment[] segments = log.segments();
        long total = 0;
        for (Segment s : segments) {
            total += s.size();
        }
        for (int i = 0; i < segments.length - 1; i++) {
            Segment s = segments[i];
            boolean tooOld = settings.retainAge() != null
                && log.offsetIndex(s).lastTimestampMicros() < nowMicros - settings.retainAge().toNanos() / 1000;
            boolean tooBig = settings.retainBytes() > 0 && total > settings.retainBytes();
            if (!tooOld && !tooBig) {
                break;
            }
            victims.add(s);
            total -= s.size();
        }
        return victims;
    }
}
