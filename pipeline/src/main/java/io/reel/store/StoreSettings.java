package io.reel.store;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.reel.store.internal.log.Bytes;
import io.reel.store.internal.log.LogFormat;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything an {@link EventStore} can be told, with defaults that work out of the box. Immutable; built
 * with {@link #builder()} and validated once by {@link Builder#build()}, settings checked against each other,
 * before anything opens.
 */
public final class StoreSettings {
    static final int MIN_SEGMENT_SIZE = 64 * 1024;

    private final Durability durability;
    private final long segmentSize;
    private final int maxEventSize;
    private final int maxEventsPerAppend;
    private final int writerQueueCapacity;
    private final long writerQueueBytes;
    private final int maxBatchBytes;
    private final long recentCacheBytes;
    private final long indexCheckpointEvents;
    private final int idempotencyWindow;
    private final Duration checkpointFlushInterval;
    private final Duration retainAge;
    private final long retainBytes;
    private final boolean repair;
    private final MeterRegistry meterRegistry;
    private final Clock clock;
    private final Clock timerClock;
    private final Compression compression;

    /** How each append's frame stores its records on disk. */
    public enum Compression {
        /** As they are (the default): nothing to undo on every read. */
        NONE,
        /** LZ4 blocks (lz4-java): for repetitive payloads such as JSON; a frame that does not shrink is stored as it is. */
        LZ4
    }
    private final Progress progress;
    private final boolean replicatedGroups;
    private final java.util.function.Supplier<EntryOrigin> entryOrigin;

    private StoreSettings(Builder b) {
        durability = b.durability;
        segmentSize = b.segmentSize;
        maxEventSize = b.maxEventSize;
        maxEventsPerAppend = b.maxEventsPerAppend;
        writerQueueCapacity = b.writerQueueCapacity;
        writerQueueBytes = b.writerQueueBytes;
        maxBatchBytes = b.maxBatchBytes;
        recentCacheBytes = b.recentCacheBytes;
        indexCheckpointEvents = b.indexCheckpointEvents;
        idempotencyWindow = b.idempotencyWindow;
        checkpointFlushInterval = b.checkpointFlushInterval;
        retainAge = b.retainAge;
        retainBytes = b.retainBytes;
        repair = b.repair;
        meterRegistry = b.meterRegistry;
        clock = b.clock;
        timerClock = b.timerClock;
        compression = b.compression;
        progress = b.progress;
        replicatedGroups = b.replicatedGroups;
        entryOrigin = b.entryOrigin;
    }

    public static StoreSettings defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The smallest {@link #segmentSize()} that holds one event of {@code maxEventSize} bytes of data and metadata. */
    public static long minimumSegmentSize(int maxEventSize) {
        return Math.max(MIN_SEGMENT_SIZE, LogFormat.SEGMENT_HEADER_SIZE + LogFormat.FRAME_HEADER_SIZE + (long) maxEventSize
            + LogFormat.MAX_RECORD_OVERHEAD);
    }

    /** The largest {@link #maxEventSize()} a segment of {@code segmentSize} bytes holds (0 when none fits). */
    public static int largestEventSize(long segmentSize) {
        long fits = segmentSize - LogFormat.SEGMENT_HEADER_SIZE - LogFormat.FRAME_HEADER_SIZE - LogFormat.MAX_RECORD_OVERHEAD;
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, fits));
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.durability = durability;
        b.segmentSize = segmentSize;
        b.maxEventSize = maxEventSize;
        b.maxEventsPerAppend = maxEventsPerAppend;
        b.writerQueueCapacity = writerQueueCapacity;
        b.writerQueueBytes = writerQueueBytes;
        b.maxBatchBytes = maxBatchBytes;
        b.recentCacheBytes = recentCacheBytes;
        b.indexCheckpointEvents = indexCheckpointEvents;
        b.idempotencyWindow = idempotencyWindow;
        b.checkpointFlushInterval = checkpointFlushInterval;
        b.retainAge = retainAge;
        b.retainBytes = retainBytes;
        b.repair = repair;
        b.meterRegistry = meterRegistry;
        b.clock = clock;
        b.timerClock = timerClock;
        b.compression = compression;
        b.progress = progress;
        b.replicatedGroups = replicatedGroups;
        b.entryOrigin = entryOrigin;
        return b;
    }

    public Durability durability() {
        return durability;
    }

    /** Size of a segment file, preallocated when it is created. */
    public long segmentSize() {
        return segmentSize;
    }

    /** Largest data + metadata of one event, in bytes. */
    public int maxEventSize() {
        return maxEventSize;
    }

    public int maxEventsPerAppend() {
        return maxEventsPerAppend;
    }

    /** Appends that may wait for the writer before new ones fail with {@code OVERLOADED}. */
    public int writerQueueCapacity() {
        return writerQueueCapacity;
    }

    /** Bytes of event data that may wait for the writer before new appends fail with {@code OVERLOADED}. */
    public long writerQueueBytes() {
        return writerQueueBytes;
    }

    /** Encoded bytes the writer gathers into one write and one force (one append larger than this goes alone). */
    public int maxBatchBytes() {
        return maxBatchBytes;
    }

    /** Bytes of recently committed records kept in memory, so live subscribers do not read the files. */
    public long recentCacheBytes() {
        return recentCacheBytes;
    }

    /** Records the indexer applies between two checkpoints of the stream index (also written on close). */
    public long indexCheckpointEvents() {
        return indexCheckpointEvents;
    }

    /** How many recent event ids the writer remembers to recognise a retried append. */
    public int idempotencyWindow() {
        return idempotencyWindow;
    }

    /** How often named-subscription checkpoints are forced to disk. */
    public Duration checkpointFlushInterval() {
        return checkpointFlushInterval;
    }

    /** Whole sealed segments whose newest record is older than this are dropped by scavenge (null: keep). */
    public Duration retainAge() {
        return retainAge;
    }

    /** Oldest whole sealed segments are dropped by scavenge while the log is larger than this (0: keep). */
    public long retainBytes() {
        return retainBytes;
    }

    /** On open, quarantine damaged files instead of refusing to open, and report what was lost. */
    public boolean repair() {
        return repair;
    }

    public MeterRegistry meterRegistry() {
        return meterRegistry;
    }

    /** The clock that dates records (a cluster node's reads an entry's stamp while the entry is applied). */
    public Clock clock() {
        return clock;
    }

    /** The clock of timers and ages: groups' ack deadlines, lag in seconds; {@link #clock()} unless set apart. */
    public Clock timerClock() {
        return timerClock != null ? timerClock : clock;
    }

    /** How frames store their records; {@link Compression#NONE} by default. Reads handle every kind whatever this says. */
    public Compression compression() {
        return compression;
    }

    /** Told how the index replay on open and a scavenge go ({@link Progress#NONE} by default). */
    public Progress progress() {
        return progress;
    }

    /**
     * Whether the consumer groups' state is replicated by a cluster (false by default): the groups then dispatch
     * only once the cluster makes this node their leader ({@code ConsumerGroups.lead}), and change their state
     * only through the cluster. Set by a cluster node's store settings, never by hand.
     */
    public boolean replicatedGroups() {
        return replicatedGroups;
    }

    /**
     * Read as each write is submitted, on the submitting thread: the cluster entry it belongs to, which its frame
     * records ({@link RecordedEvent#origin()}), or null for none. Null by default (no frame records an origin);
     * set by a cluster node's store settings, never by hand.
     */
    public java.util.function.Supplier<EntryOrigin> entryOrigin() {
        return entryOrigin;
    }

    /** The settings of a store; {@link #build()} checks them, alone and against each other. */
    public static final class Builder {
        private Durability durability = Durability.fsync();
        private long segmentSize = 256L * 1024 * 1024;
        private int maxEventSize = 1024 * 1024;
        private int maxEventsPerAppend = 10_000;
        private int writerQueueCapacity = 16_384;
        private long writerQueueBytes = 256L * 1024 * 1024;
        private int maxBatchBytes = 4 * 1024 * 1024;
        private long recentCacheBytes = 64L * 1024 * 1024;
        private long indexCheckpointEvents = 1_000_000;
        private int idempotencyWindow = 65_536;
        private Duration checkpointFlushInterval = Duration.ofMillis(100);
        private Duration retainAge;
        private long retainBytes;
        private boolean repair;
        private MeterRegistry meterRegistry = new CompositeMeterRegistry();
        private Clock clock = Clock.systemUTC();
        private Clock timerClock;
        private Compression compression = Compression.NONE;
        private Progress progress = Progress.NONE;
        private boolean replicatedGroups;
        private java.util.function.Supplier<EntryOrigin> entryOrigin;

        private Builder() {
        }

        public Builder compression(Compression value) {
            compression = Objects.requireNonNull(value, "compression");
            return this;
        }

        public Builder durability(Durability value) {
            durability = Objects.requireNonNull(value, "durability");
            return this;
        }

        public Builder segmentSize(long bytes) {
            segmentSize = bytes;
            return this;
        }

        public Builder maxEventSize(int bytes) {
            maxEventSize = bytes;
            return this;
        }

        public Builder maxEventsPerAppend(int count) {
            maxEventsPerAppend = count;
            return this;
        }

        public Builder writerQueueCapacity(int appends) {
            writerQueueCapacity = appends;
            return this;
        }

        public Builder writerQueueBytes(long bytes) {
            writerQueueBytes = bytes;
            return this;
        }

        public Builder maxBatchBytes(int bytes) {
            maxBatchBytes = bytes;
            return this;
        }

        public Builder recentCacheBytes(long bytes) {
            recentCacheBytes = bytes;
            return this;
        }

        public Builder indexCheckpointEvents(long records) {
            indexCheckpointEvents = records;
            return this;
        }

        public Builder idempotencyWindow(int eventIds) {
            idempotencyWindow = eventIds;
            return this;
        }

        public Builder checkpointFlushInterval(Duration interval) {
            checkpointFlushInterval = Objects.requireNonNull(interval, "checkpointFlushInterval");
            return this;
        }

        public Builder retainAge(Duration age) {
            retainAge = age;
            return this;
        }

        public Builder retainBytes(long bytes) {
            retainBytes = bytes;
            return this;
        }

        public Builder repair(boolean value) {
            repair = value;
            return this;
        }

        public Builder meterRegistry(MeterRegistry registry) {
            meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
            return this;
        }

        public Builder clock(Clock value) {
            clock = Objects.requireNonNull(value, "clock");
            return this;
        }

        public Builder timerClock(Clock value) {
            timerClock = Objects.requireNonNull(value, "timerClock");
            return this;
        }

        public Builder progress(Progress value) {
            progress = Objects.requireNonNull(value, "progress");
            return this;
        }

        public Builder replicatedGroups(boolean value) {
            replicatedGroups = value;
            return this;
        }

        /** See {@link StoreSettings#entryOrigin()}; null for none. */
        public Builder entryOrigin(java.util.function.Supplier<EntryOrigin> value) {
            entryOrigin = value;
            return this;
        }

        public StoreSettings build() {
            require(segmentSize >= MIN_SEGMENT_SIZE, "segmentSize " + segmentSize + " is below the minimum of " + MIN_SEGMENT_SIZE + " bytes");
            require(maxEventSize > 0, "maxEventSize " + maxEventSize + " must be positive");
            require(maxEventsPerAppend > 0, "maxEventsPerAppend " + maxEventsPerAppend + " must be positive");
            require(writerQueueCapacity > 0, "writerQueueCapacity " + writerQueueCapacity + " must be positive");
            require(writerQueueBytes > 0, "writerQueueBytes " + writerQueueBytes + " must be positive");
            require(maxBatchBytes >= 4096, "maxBatchBytes " + maxBatchBytes + " must be at least 4096");
            require(recentCacheBytes >= 0, "recentCacheBytes " + recentCacheBytes + " must not be negative");
            require(indexCheckpointEvents > 0, "indexCheckpointEvents " + indexCheckpointEvents + " must be positive");
            require(idempotencyWindow >= 0, "idempotencyWindow " + idempotencyWindow + " must not be negative");
            require(retainBytes >= 0, "retainBytes " + retainBytes + " must not be negative");
            long largestFrame = LogFormat.FRAME_HEADER_SIZE + (long) maxEventSize + LogFormat.MAX_RECORD_OVERHEAD;
            require(largestFrame <= segmentSize - LogFormat.SEGMENT_HEADER_SIZE,
                "segmentSize " + segmentSize + " cannot hold one event of maxEventSize " + maxEventSize
                    + " (a frame of up to " + largestFrame + " bytes); raise segmentSize to at least " + minimumSegmentSize(maxEventSize)
                    + " or lower maxEventSize to at most " + largestEventSize(segmentSize));
            return new StoreSettings(this);
        }

        private static void require(boolean condition, String sentence) {
            if (!condition) {
                throw ReelException.invalidArgument(sentence);
            }
        }
    }
}
