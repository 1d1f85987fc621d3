package io.reel.transport.cluster;

import io.reel.proto.ClusterSnapshot;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;
import org.apache.ratis.server.protocol.TermIndex;

/**
 * The pure part of a node's cluster snapshots: how their directories are named and ordered, which of them a
 * purge removes, and the byte layout of their metadata file. No I/O (see {@link SnapshotStorage}).
 *
 * <p>A snapshot is a directory {@code snapshot-TERM-INDEX} in Ratis' state machine directory, holding
 * {@value #META_FILE}, {@code log/}, a copy of the store's segment files up to at least the snapshot's head
 * (sealed segments hard-linked, the active one copied), and {@code groups/}, the replicated consumer groups' files
 * with the sequence of the last group change applied ({@code groups/.applied/}). It is written as {@code snapshot-TERM-INDEX.tmp} and
 * renamed once complete, so a directory without the suffix is whole.
 *
 * <p>{@value #META_FILE}, big-endian:
 * <pre>
 *   0   u32  magic 'RSNP' (0x52534E50)
 *   4   u32  format version (1)
 *   8   u64  Raft term of the last entry the snapshot includes
 *  16   u64  Raft index of that entry
 *  24   u32  length N of the body
 *  28   N    body: protobuf reel.v1.ClusterSnapshot (head, entry stamp, members)
 *  28+N u32  CRC32C of bytes 0 .. 28+N
 * </pre>
 * A file with another magic, version, a bad CRC or a term and index other than its directory's is not
 * trusted: the snapshot is skipped as if absent (an older one, or none, is used instead).
 */
final class SnapshotLayout {
    static final String PREFIX = "snapshot-";
    static final String TMP_SUFFIX = ".tmp";
    static final String META_FILE = "snapshot.meta";
    static final String LOG_DIR = "log";
    static final String GROUPS_DIR = "groups";
    /** Snapshots kept on disk: the newest may be being sent to a follower while the next one is written. */
    static final int KEEP = 2;
    private static final int MAGIC = 0x52534E50;
    private static final int VERSION = 1;
    private static final int HEADER = 28;

    /** The metadata of one snapshot. */
    record Meta(TermIndex termIndex, ClusterSnapshot snapshot) {
    }

    private SnapshotLayout() {
    }

    static String dirName(TermIndex ti) {
        return PREFIX + ti.getTerm() + "-" + ti.getIndex();
    }

    /** The term and index a complete snapshot directory's name says, or null for any other name (a .tmp included). */
    static TermIndex parse(String name) {
        if (!name.startsWith(PREFIX)) {
            return null;
        }
        String[] parts = name.substring(PREFIX.length()).split("-", -1);
        if (parts.length != 2) {
            return null;
        }
        try {
            long term = Long.parseLong(parts[0]);
            long index = Long.parseLong(parts[1]);
            return term < 0 || index < 0 || !name.equals(PREFIX + term + "-" + index) ? null : TermIndex.valueOf(term, index);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Complete snapshot directory names among {@code names}, newest (highest index) first. */
    static List<String> newestFirst(List<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (parse(n) != null) {
                out.add(n);
            }
        }
        out.sort(Comparator.comparing((String n) -> parse(n).getIndex()).thenComparing(n -> parse(n).getTerm()).reversed());
        return out;
    }

    /**
     * What a purge removes from {@code names}: every complete snapshot but the {@code keep} newest, and every
     * unfinished ({@code .tmp}) one older than the newest complete one (left by a crash while writing).
     */
    static List<String> toPurge(List<String> names, int keep) {
        List<String> complete = newestFirst(names);
        List<String> out = new ArrayList<>(complete.subList(Math.min(keep, complete.size()), complete.size()));
        long newest = complete.isEmpty() ? -1 : parse(complete.get(0)).getIndex();
        for (String n : names) {
            if (n.endsWith(TMP_SUFFIX)) {
                TermIndex ti = parse(n.substring(0, n.length() - TMP_SUFFIX.length()));
                if (ti != null && ti.getIndex() < newest) {
                    out.add(n);
                }
            }
        }
        return out;
    }

    static byte[] encodeMeta(Meta meta) {
        byte[] body = meta.snapshot().toByteArray();
        ByteBuffer b = ByteBuffer.allocate(HEADER + body.length + 4);
        b.putInt(MAGIC).putInt(VERSION).putLong(meta.termIndex().getTerm()).putLong(meta.termIndex().getIndex()).putInt(body.length).put(body);
        b.putInt((int) crc(b.array(), HEADER + body.length));
        return b.array();
    }

    /**
     * Decodes a metadata file that should belong to {@code expected}.
     *
     * @throws IllegalArgumentException naming what is wrong, when it is not to be trusted
     */
    static Meta decodeMeta(byte[] bytes, TermIndex expected) {
        if (bytes.length < HEADER + 4) {
            throw new IllegalArgumentException("it holds " + bytes.length + " bytes, fewer than a header and a checksum");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        int magic = b.getInt();
        int version = b.getInt();
        if (magic != MAGIC) {
            throw new IllegalArgumentException("it does not start with the magic RSNP");
        }
        if (version != VERSION) {
            throw new IllegalArgumentException("its format version " + version + " is not " + VERSION + " (written by another Reel version)");
        }
        TermIndex ti = TermIndex.valueOf(b.getLong(), b.getLong());
        int length = b.getInt();
        if (length < 0 || length != bytes.length - HEADER - 4) {
            throw new IllegalArgumentException("its body length " + length + " does not match its size " + bytes.length);
        }
        int stored = ByteBuffer.wrap(bytes, HEADER + length, 4).getInt();
        if (stored != (int) crc(bytes, HEADER + length)) {
            throw new IllegalArgumentException("its CRC32C does not match: the file is damaged");
        }
        if (!ti.equals(expected)) {
            throw new IllegalArgumentException("it is the metadata of " + ti + ", not of " + expected);
        }
        try {
            return new Meta(ti, ClusterSnapshot.parseFrom(ByteBuffer.wrap(bytes, HEADER, length)));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("its body is not a ClusterSnapshot: " + e.getMessage());
        }
    }

    private static long crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return crc.getValue();
    }
}
