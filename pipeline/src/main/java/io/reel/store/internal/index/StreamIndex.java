package io.reel.store.internal.index;

import io.reel.store.RecordedEvent;
import io.reel.store.StreamMetadata;
import io.reel.store.internal.log.Bytes;
import io.reel.store.internal.log.Crc;
import io.reel.store.internal.log.Directories;
import io.reel.store.internal.log.SystemStreams;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * The stream index: for every stream, the position of each of its events by revision, and its metadata.
 * Derived data, rebuilt from the log when its checkpoint is missing or bad.
 *
 * <p>Structure: a hash map from stream name to a {@link StreamEntry}, whose positions sit in one
 * {@code long[]} indexed by revision (revisions are dense; events a scavenge removed are always a prefix of
 * the stream, so an entry starts at a base revision). That is 8 bytes per event plus roughly 150 bytes per
 * stream (name, map node, entry, array header): about 9.5 bytes per event for 10M events in 100k streams.
 * For billions of events the same layout moves to disk as sorted runs of (stream hash, revision, position)
 * merged in the background, as EventStoreDB's PTables and LSM trees do: the map keeps only the streams'
 * heads and each run gets a sparse in-memory fence index.
 *
 * <p>One thread (the indexer) writes; readers on any thread see an entry's positions up to its volatile
 * {@code count}.
 *
 * <pre>
 * Checkpoint file index/streams.chk (integers big-endian, varints as protobuf's):
 *  magic "REELSIDX" u64 | version u32 = 1 | indexed up to (next position) u64 | stream count u32
 *  per stream: name (varint length + UTF-8) | flags u8 (1 soft-deleted, 2 hard-deleted) | max count varint
 *              | max age seconds varint | truncate before varint | base revision varint | count varint
 *              | first position varint, then count-1 position deltas varint
 *  CRC32C u32 of everything before it
 * </pre>
 */
public final class StreamIndex {
    public static final String CHECKPOINT_FILE = "streams.chk";
    private static final long MAGIC = 0x5245454C53494458L;
    private static final int VERSION = 1;

    private final ConcurrentHashMap<String, StreamEntry> streams = new ConcurrentHashMap<>();
    private volatile long indexedUpTo;
    private String lastStream;
    private StreamEntry lastEntry;

    /** One stream: positions by revision from {@link #baseRevision}, and metadata. */
    public static final class StreamEntry {
        final String name;
        private long baseRevision;
        private long[] positions;
        private volatile int count;
        private volatile StreamMetadata metadata = StreamMetadata.NONE;

        StreamEntry(String name) {
            this.name = name;
            this.positions = new long[2];
        }

        private StreamEntry(String name, long baseRevision, long[] positions, StreamMetadata metadata) {
            this.name = name;
            this.baseRevision = baseRevision;
            this.positions = positions;
            this.count = positions.length;
            this.metadata = metadata;
        }

        void add(long revision, long position) {
            int n = count;
            if (n == 0 && revision > 0) {
                baseRevision = revision;
            }
            long expected = baseRevision + n;
            if (revision < expected) {
                return;
            }
            int needed = (int) (revision - baseRevision) + 1;
            if (needed > positions.length) {
                positions = Arrays.copyOf(positions, Math.max(needed, positions.length + (positions.length >> 1) + 2));
            }
            for (long r = expected; r < revision; r++) {
                positions[(int) (r - baseRevision)] = -1;
            }
            positions[needed - 1] = position;
            count = needed;
        }

        /** The first revision the index holds. */
        public long baseRevision() {
            return baseRevision;
        }

        /** One past the last revision: the number of events ever written to the stream that the index knows of. */
        public long endRevision() {
            return baseRevision + count;
        }

        /** The position of an event, or -1 when the index does not hold it. */
        public long position(long revision) {
            int n = count;
            long i = revision - baseRevision;
            return i < 0 || i >= n ? -1 : positions[(int) i];
        }

        public StreamMetadata metadata() {
            return metadata;
        }

        /** Soft-deleted and not written since (an append after a soft delete recreates the stream). */
        public boolean softDeleted() {
            StreamMetadata m = metadata;
            return m.softDeleted() && endRevision() <= m.truncateBefore();
        }

        /** The metadata as a reader should see it: soft-deleted only while no event was appended since the delete. */
        public StreamMetadata effectiveMetadata() {
            StreamMetadata m = metadata;
            return m.softDeleted() && !softDeleted() ? new StreamMetadata(m.maxCount(), m.maxAge(), m.truncateBefore(), false, m.hardDeleted()) : m;
        }

        /** The stream's revision for appends: its last event, or where a soft delete left it. */
        public long revision() {
            long last = endRevision() - 1;
            StreamMetadata m = metadata;
            return m.softDeleted() ? Math.max(last, m.truncateBefore() - 1) : last;
        }
    }

    public long indexedUpTo() {
        return indexedUpTo;
    }

    public StreamEntry get(String stream) {
        return streams.get(stream);
    }

    public int streamCount() {
        return streams.size();
    }

    public void forEach(BiConsumer<String, StreamEntry> action) {
        streams.forEach(action);
    }

    /** Adds one record. Indexer thread only, in position order. */
    void apply(RecordedEvent record) {
        if (record.position() < indexedUpTo) {
            return;
        }
        String stream = lastStream != null && record.streamEquals(lastStreamUtf8) ? lastStream : record.stream();
        StreamEntry entry = stream == lastStream ? lastEntry : streams.computeIfAbsent(stream, StreamEntry::new);
        if (stream != lastStream) {
            lastStream = stream;
            lastStreamUtf8 = stream.getBytes(StandardCharsets.UTF_8);
            lastEntry = entry;
        }
        entry.add(record.revision(), record.position());
        if (SystemStreams.isMetadataStream(stream) && SystemStreams.METADATA_TYPE.equals(record.type())) {
            StreamMetadata metadata = SystemStreams.decode(record);
            if (metadata != null) {
                streams.computeIfAbsent(SystemStreams.streamOfMetadataStream(stream), StreamEntry::new).metadata = metadata;
            }
        }
        indexedUpTo = record.position() + 1;
    }

    private byte[] lastStreamUtf8;

    /** Marks positions up to {@code position} as indexed (nothing at them concerns the index). */
    void advanceTo(long position) {
        if (position > indexedUpTo) {
            indexedUpTo = position;
        }
    }

    public void writeCheckpoint(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(CHECKPOINT_FILE);
        Path tmp = dir.resolve(CHECKPOINT_FILE + ".tmp");
        CRC32C crc = new CRC32C();
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
            OutputStream raw = Channels.newOutputStream(channel);
            DataOutputStream out = new DataOutputStream(new CheckedOutputStream(new BufferedOutputStream(raw, 1 << 16), crc));
            out.writeLong(MAGIC);
            out.writeInt(VERSION);
            out.writeLong(indexedUpTo);
            Map<String, StreamEntry> snapshot = Map.copyOf(streams);
            out.writeInt(snapshot.size());
            for (StreamEntry e : snapshot.values()) {
                byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
                writeVarint(out, name.length);
                out.write(name);
                StreamMetadata m = e.metadata;
                out.writeByte((m.softDeleted() ? 1 : 0) | (m.hardDeleted() ? 2 : 0));
                writeVarint(out, m.maxCount());
                writeVarint(out, m.maxAge() == null ? 0 : m.maxAge().toSeconds());
                writeVarint(out, m.truncateBefore());
                int n = e.count;
                writeVarint(out, e.baseRevision);
                writeVarint(out, n);
                long previous = 0;
                for (int i = 0; i < n; i++) {
                    long p = e.positions[i];
                    writeVarint(out, i == 0 ? p + 1 : p - previous + 1);
                    previous = p;
                }
            }
            out.flush();
            out.writeInt((int) crc.getValue());
            out.flush();
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Directories.force(dir);
    }

    /** Loads the checkpoint; null when there is none or it fails its checks (the caller rebuilds from the log). */
    public static StreamIndex loadCheckpoint(Path dir) throws IOException {
        Path file = dir.resolve(CHECKPOINT_FILE);
        if (!Files.exists(file)) {
            return null;
        }
        byte[] b = Files.readAllBytes(file);
        if (b.length < 28 || Bytes.getLong(b, 0) != MAGIC || Bytes.getInt(b, 8) != VERSION
            || Bytes.getInt(b, b.length - 4) != Crc.of(b, 0, b.length - 4)) {
            return null;
        }
        StreamIndex index = new StreamIndex();
        index.indexedUpTo = Bytes.getLong(b, 12);
        int streams = Bytes.getInt(b, 20);
        int[] p = {24};
        int end = b.length - 4;
        try {
            for (int s = 0; s < streams; s++) {
                int nameLength = (int) readVarint(b, p, end);
                if (nameLength < 0 || p[0] + nameLength > end) {
                    return null;
                }
                String name = new String(b, p[0], nameLength, StandardCharsets.UTF_8);
                p[0] += nameLength;
                int flags = b[p[0]++];
                long maxCount = readVarint(b, p, end);
                long maxAge = readVarint(b, p, end);
                long truncateBefore = readVarint(b, p, end);
                StreamMetadata metadata = new StreamMetadata(maxCount, maxAge == 0 ? null : Duration.ofSeconds(maxAge), truncateBefore,
                    (flags & 1) != 0, (flags & 2) != 0);
                long base = readVarint(b, p, end);
                int n = (int) readVarint(b, p, end);
                long[] positions = new long[n];
                long previous = 0;
                for (int i = 0; i < n; i++) {
                    long v = readVarint(b, p, end) - 1;
                    positions[i] = i == 0 ? v : previous + v;
                    previous = positions[i];
                }
                index.streams.put(name, new StreamEntry(name, base, positions, metadata));
            }
        } catch (IndexOutOfBoundsException e) {
            return null;
        }
        return p[0] == end ? index : null;
    }

    private static void writeVarint(DataOutputStream out, long v) throws IOException {
        while ((v & ~0x7FL) != 0) {
            out.writeByte((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    private static long readVarint(byte[] b, int[] p, int end) {
        long v = 0;
        int shift = 0;
        while (true) {
            if (p[0] >= end || shift > 63) {
                throw new IndexOutOfBoundsException("varint past the end");
            }
            byte x = b[p[0]++];
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                return v;
            }
            shift += 7;
        }
    }
}
