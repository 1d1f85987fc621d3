package io.reel.store.internal.index;

import io.reel.store.EventData;
import io.reel.store.internal.log.LogFormat;
import io.reel.store.internal.log.OffsetIndex;
import io.reel.store.internal.writer.RecentEventIds;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Lookups on the read and write paths: the sparse offset index of a full 256 MiB segment (one entry per
 * 4 KiB), a stream index position by revision, and the writer's id window (insert; lookup of an unknown id).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class IndexBenchmark {
    @Param({"65536", "262144"})
    public int window;

    private OffsetIndex offsets;
    private StreamIndex.StreamEntry stream;
    private RecentEventIds ids;
    private UUID[] fresh;
    private final SplittableRandom random = new SplittableRandom(7);
    private int next;

    @Setup
    public void fill() {
        offsets = OffsetIndex.empty(0);
        long offset = LogFormat.SEGMENT_HEADER_SIZE;
        for (long p = 0; offset < 256L << 20; p++) {
            offsets.onFrame(p, offset, offset + 200, 0);
            offset += 200;
        }
        stream = new StreamIndex.StreamEntry("order-1");
        for (int r = 0; r < 100_000; r++) {
            stream.add(r, r * 37L);
        }
        ids = new RecentEventIds(window);
        for (int i = 0; i < window; i++) {
            ids.add(EventData.newId(), i);
        }
        fresh = new UUID[1 << 16];
        for (int i = 0; i < fresh.length; i++) {
            fresh[i] = EventData.newId();
        }
    }

    @Benchmark
    public long offsetIndexFloor() {
        return offsets.floorOffset(random.nextLong(1_300_000));
    }

    @Benchmark
    public long streamPositionByRevision() {
        return stream.position(random.nextInt(100_000));
    }

    @Benchmark
    public void idWindowAdd() {
        ids.add(fresh[next++ & (fresh.length - 1)], next);
    }

    @Benchmark
    public long idWindowFindUnknown() {
        return ids.find(fresh[next++ & (fresh.length - 1)]);
    }
}
