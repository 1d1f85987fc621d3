package io.reel.store.internal.writer;

import io.reel.store.AppendResult;
import io.reel.store.EntryOrigin;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.StreamMetadata;
import io.reel.store.internal.log.FrameCodec;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.RecordCodec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import reactor.core.publisher.MonoSink;

/**
 * One request to the writer: an append, a metadata change or a delete. Built and checked on the caller's
 * thread (limits, names); everything that depends on the log's state is decided by the writer.
 */
public final class AppendCommand {
    enum Kind { APPEND, SET_METADATA, SOFT_DELETE, HARD_DELETE, IMPORT }

    /** Slack per frame for the varints of position and revision, whose exact size the writer decides. */
    private static final int VARINT_SLACK = 2 * 11;

    final Kind kind;
    final String stream;
    /** {@link #stream} in UTF-8, encoded on the caller's thread. */
    final byte[] streamUtf8;
    final ExpectedRevision expected;
    final List<EventData> events;
    final StreamMetadata metadata;
    final long dataBytes;
    long frameBytesBound;
    final long submittedNanos;
    MonoSink<AppendResult> sink;
    /** The cluster entry this write belongs to, which its frame records; null outside a cluster. */
    EntryOrigin origin;

    /* Decided by the writer. */
    String writtenStream;
    byte[] writtenStreamUtf8;
    List<EventData> writtenEvents;
    long firstPosition;
    long firstRevision;
    int frameBytes;
    AppendCommand duplicateOf;
    AppendResult result;

    /* IMPORT only: one frame of another replica of this log, written verbatim (see {@link #importFrame}). */
    final ImportedFrame imported;

    /**
     * A format-2 frame read from another replica of this log, with what the writer must learn from it: where
     * it goes, the stream and revisions it advances, its event ids (idempotency) and, for a {@code $$} stream,
     * the metadata it puts in force.
     */
    record ImportedFrame(byte[] bytes, long firstPosition, long firstRevision, int count, long timestampMicros,
                         List<java.util.UUID> eventIds, StreamMetadata metadata) {
    }

    private AppendCommand(String stream, ImportedFrame frame) {
        this.kind = Kind.IMPORT;
        this.stream = stream;
        this.streamUtf8 = stream.getBytes(StandardCharsets.UTF_8);
        this.expected = ExpectedRevision.ANY;
        this.events = List.of();
        this.metadata = null;
        this.imported = frame;
        this.dataBytes = frame.bytes().length;
        this.frameBytesBound = frame.bytes().length;
        this.submittedNanos = System.nanoTime();
    }

    /** Writes {@code frame} verbatim at its position, which must be the head when the writer reaches it. */
    static AppendCommand importFrame(String stream, ImportedFrame frame) {
        return new AppendCommand(stream, frame);
    }

    private AppendCommand(Kind kind, String stream, ExpectedRevision expected, List<EventData> events, StreamMetadata metadata) {
        this.imported = null;
        this.kind = kind;
        this.stream = stream;
        this.expected = expected;
        this.events = events;
        this.metadata = metadata;
        long data = 0;
        long bound = 0;
        this.streamUtf8 = stream.getBytes(StandardCharsets.UTF_8);
        int streamBytes = (kind == Kind.APPEND ? 0 : 2) + streamUtf8.length;
        for (EventData e : events) {
            long eventData = (long) e.data().length + e.metadata().length;
            data += eventData;
            bound += LogFormat.FRAME_HEADER_SIZE + VARINT_SLACK + RecordCodec.bytesFieldSize(streamBytes)
                + RecordCodec.bytesFieldSize(RecordCodec.UUID_TEXT_LENGTH) + RecordCodec.bytesFieldSize(e.typeUtf8().length)
                + RecordCodec.bytesFieldSize(e.contentTypeUtf8().length) + RecordCodec.bytesFieldSize(e.data().length)
                + RecordCodec.bytesFieldSize(e.metadata().length);
        }
        if (kind != Kind.APPEND) {
            bound += LogFormat.FRAME_HEADER_SIZE + VARINT_SLACK + 2 * streamBytes + 256;
        }
        this.dataBytes = data;
        this.frameBytesBound = bound;
        this.submittedNanos = System.nanoTime();
    }

    public static AppendCommand append(String stream, ExpectedRevision expected, List<EventData> events) {
        return new AppendCommand(Kind.APPEND, stream, expected, events, null);
    }

    public static AppendCommand setMetadata(String stream, StreamMetadata metadata) {
        return new AppendCommand(Kind.SET_METADATA, stream, ExpectedRevision.ANY, List.of(), metadata);
    }

    public static AppendCommand delete(String stream, ExpectedRevision expected, boolean hard) {
        return new AppendCommand(hard ? Kind.HARD_DELETE : Kind.SOFT_DELETE, stream, expected, List.of(), null);
    }

    /** Marks this write as one of the cluster entry {@code origin} (null: none), which its frame then records. */
    public AppendCommand from(EntryOrigin origin) {
        if (origin != null && kind != Kind.IMPORT) {
            this.origin = origin;
            this.frameBytesBound += FrameCodec.ORIGIN_BYTES_MAX;
        }
        return this;
    }

    int eventCount() {
        if (kind == Kind.IMPORT) {
            return result == null ? 0 : imported.count();
        }
        return writtenEvents == null ? 0 : writtenEvents.size();
    }
}
