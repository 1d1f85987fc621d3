package io.reel.aggregate.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.reel.aggregate.Aggregate;
import io.reel.aggregate.StateCodec;
import io.reel.store.CheckpointStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshots of one aggregate type, one file per stream in {@code <data dir>/snapshots/<aggregate name>/},
 * kept by a {@link CheckpointStore}: atomic (temporary file, force, rename, force the directory) and
 * self-verifying (magic, version, CRC32C). The checkpoint's name is the stream and its position is the log
 * position of the event at the snapshot's revision; its state is this payload:
 * <pre>
 *  0                 4                   8                16
 *  +-----------------+-------------------+----------------+------------------------------+
 *  | format u32 (=1) | schema version u32| revision u64   | state (StateCodec bytes) ... |
 *  +-----------------+-------------------+----------------+------------------------------+
 * </pre>
 * (integers big-endian). A snapshot is an optimisation: a damaged one, one of another schema version, and one
 * that does not match the log (see {@link AggregateLoader}) is logged, counted in
 * {@code reel.snapshots.ignored} and ignored; the aggregate is then rebuilt from its events.
 *
 * <p>Thread-safe. Reads and writes are blocking file I/O: call them on a thread that may block.
 */
public final class SnapshotStore {
    static final String DIRECTORY = "snapshots";
    static final int FORMAT = 1;
    private static final int HEADER = 16;
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotStore.class);

    private final String aggregate;
    private final CheckpointStore files;
    private final int schemaVersion;
    private final Counter written;
    private final Counter damaged;
    private final Counter otherSchema;
    private final Counter mismatched;

    /** A snapshot read back: the state at {@code revision} of {@code stream}, still encoded. */
    public record Snapshot(String stream, long revision, long position, int schemaVersion, byte[] state) {
    }

    public SnapshotStore(Path dataDir, String aggregate, int schemaVersion, MeterRegistry registry) {
        this.aggregate = aggregate;
        this.files = CheckpointStore.open(dataDir.resolve(DIRECTORY).resolve(aggregate));
        this.schemaVersion = schemaVersion;
        this.written = Counter.builder("reel.snapshots.written").tag("aggregate", aggregate)
            .description("Aggregate snapshots written").register(registry);
        this.damaged = ignoredCounter(registry, "damaged");
        this.otherSchema = ignoredCounter(registry, "schema");
        this.mismatched = ignoredCounter(registry, "mismatch");
    }

    private Counter ignoredCounter(MeterRegistry registry, String reason) {
        return Counter.builder("reel.snapshots.ignored").tag("aggregate", aggregate).tag("reason", reason)
            .description("Aggregate snapshots ignored (damaged, of another schema version, or not matching the log)")
            .register(registry);
    }

    Path directory() {
        return files.directory();
    }

    /**
     * The stream's snapshot, or null when it has none or its snapshot is damaged or of another schema
     * version; with {@code report}, such a snapshot is logged and counted as ignored.
     */
    public Snapshot read(String stream, boolean report) {
        Optional<CheckpointStore.Checkpoint> stored = files.load(stream);
        if (stored.isEmpty()) {
            if (report && files.exists(stream)) {
                damaged.increment();
                LOG.warn("ignoring the damaged snapshot of '{}' in {}; rebuilding it from its events", stream, files.directory());
            }
            return null;
        }
        byte[] payload = stored.get().state();
        if (payload.length < HEADER) {
            if (report) {
                damaged.increment();
                LOG.warn("ignoring the snapshot of '{}' in {}: {} bytes, shorter than its header; rebuilding it from its events",
                    stream, files.directory(), payload.length);
            }
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(payload);
        int format = b.getInt();
        int schema = b.getInt();
        long revision = b.getLong();
        if (format != FORMAT || revision < 0) {
            if (report) {
                damaged.increment();
                LOG.warn("ignoring the snapshot of '{}' in {}: format {} and revision {} are not valid; rebuilding it from its events",
                    stream, files.directory(), format, revision);
            }
            return null;
        }
        if (schema != schemaVersion) {
            if (report) {
                otherSchema.increment();
                LOG.info("ignoring the snapshot of '{}': schema version {}, the aggregate's codec is at {}; rebuilding it from its events",
                    stream, schema, schemaVersion);
            }
            return null;
        }
        byte[] state = new byte[payload.length - HEADER];
        System.arraycopy(payload, HEADER, state, 0, state.length);
        return new Snapshot(stream, revision, stored.get().position(), schema, state);
    }

    /** Saves the state at {@code revision} (log {@code position}) of {@code stream}, atomically and durably. */
    public void write(String stream, long revision, long position, byte[] state) {
        byte[] payload = new byte[HEADER + state.length];
        ByteBuffer.wrap(payload).putInt(FORMAT).putInt(schemaVersion).putLong(revision).put(state);
        files.save(stream, position, payload);
        written.increment();
    }

    /** A snapshot whose revision and position are not those of the log; see {@link AggregateLoader}. */
    void mismatched(Snapshot snapshot, String what) {
        mismatched.increment();
        LOG.warn("ignoring the snapshot of '{}' at revision {} (position {}): {}; rebuilding it from its events",
            snapshot.stream(), snapshot.revision(), snapshot.position(), what);
    }

    /** A snapshot whose state the codec could not decode. */
    void undecodable(Snapshot snapshot, RuntimeException e) {
        damaged.increment();
        LOG.warn("ignoring the snapshot of '{}' at revision {}: its state does not decode ({}); rebuilding it from its events",
            snapshot.stream(), snapshot.revision(), e.toString());
    }
}
