package io.reel.store.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.RecordedEvent;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/** Frame validation: every single-byte change to a written frame is caught, never decoded as a good frame. */
class FrameReaderTest {
    private Path dir;

    @BeforeProperty
    void createDir() throws Exception {
        dir = Files.createTempDirectory("reel-frames");
    }

    @AfterProperty
    void deleteDir() throws Exception {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static byte[] frames(int count) {
        byte[][] bodies = new byte[count][];
        int total = 0;
        for (int i = 0; i < count; i++) {
            byte[] stream = ("s-" + i).getBytes();
            byte[] type = "T".getBytes();
            byte[] ct = "c".getBytes();
            byte[] data = new byte[10 + i];
            int size = RecordCodec.bodySize(i, stream, 0, type, ct, data.length, 0, 5);
            bodies[i] = new byte[size];
            RecordCodec.encode(bodies[i], 0, i, stream, 0, UUID.randomUUID(), type, ct, data, new byte[0], 5);
            total += 8 + size;
        }
        byte[] out = new byte[total];
        int p = 0;
        for (byte[] b : bodies) {
            Bytes.putInt(out, p, b.length);
            Bytes.putInt(out, p + 4, Crc.of(b, 0, b.length));
            System.arraycopy(b, 0, out, p + 8, b.length);
            p += 8 + b.length;
        }
        return out;
    }

    @Property(tries = 300)
    void everyFlippedByteIsDetected(@ForAll @IntRange(min = 1, max = 5) int count, @ForAll @IntRange(min = 0, max = 10_000) int where,
                                    @ForAll @IntRange(min = 1, max = 255) int xor) throws Exception {
        byte[] data = frames(count);
        int at = where % data.length;
        data[at] ^= (byte) xor;
        Segment segment = Segment.create(dir, 0, 64 * 1024, null);
        try {
            segment.write(ByteBuffer.wrap(data), LogFormat.SEGMENT_HEADER_SIZE);
            FrameReader reader = new FrameReader(segment, LogFormat.SEGMENT_HEADER_SIZE, LogFormat.SEGMENT_HEADER_SIZE + data.length, 64, true);
            int good = 0;
            FrameReader.Status status;
            while ((status = reader.next()) == FrameReader.Status.FRAME) {
                RecordedEvent r = reader.record();
                assertThat(r.position()).isEqualTo(good);
                good++;
            }
            assertThat(good).as("frames before the damaged byte stay readable, the damaged one is not").isLessThan(count);
            assertThat(status).isNotEqualTo(FrameReader.Status.FRAME);
        } finally {
            segment.release();
            Files.deleteIfExists(segment.path());
        }
    }
}
