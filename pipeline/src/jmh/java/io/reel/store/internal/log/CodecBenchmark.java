package io.reel.store.internal.log;

import io.reel.store.EventData;
import io.reel.store.RecordedEvent;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The per-event costs of the write and read paths: encoding an {@code EventRecord} into a batch buffer, its
 * CRC32C, building a record view (position only) and locating all of its fields.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBenchmark {
    private final byte[] stream = "order-4711".getBytes();
    private final byte[] type = "OrderPlaced".getBytes();
    private final byte[] contentType = EventData.PROTOBUF.getBytes();
    private final byte[] data = new byte[100];
    private final byte[] metadata = new byte[0];
    private final UUID id = EventData.newId();
    private final byte[] buffer = new byte[4096];
    private int bodyLength;
    private long position = 1_000_000;

    @Setup
    public void encodeOnce() {
        bodyLength = encode() - 8;
    }

    @Benchmark
    public int encode() {
        int end = RecordCodec.encode(buffer, 8, position, stream, 4711, id, type, contentType, data, metadata, 1_790_000_000_000_000L);
        Bytes.putInt(buffer, 0, end - 8);
        return end;
    }

    @Benchmark
    public int crc32c() {
        return Crc.of(buffer, 8, bodyLength);
    }

    @Benchmark
    public long viewPosition() {
        return RecordedEvent.fromEncoded(buffer, 8, bodyLength).position();
    }

    @Benchmark
    public long viewLocateAllFields() {
        return RecordedEvent.fromEncoded(buffer, 8, bodyLength).revision();
    }

    @Benchmark
    public String viewStreamName() {
        return RecordedEvent.fromEncoded(buffer, 8, bodyLength).stream();
    }
}
