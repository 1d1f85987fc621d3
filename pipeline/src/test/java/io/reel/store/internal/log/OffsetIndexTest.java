package io.reel.store.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sparse position→offset index: an entry every 4 KiB, floor lookups, its file round trip and checks. */
class OffsetIndexTest {
    @TempDir
    Path dir;

    @Test
    void keepsAnEntryEveryIntervalAndFindsTheFloor() {
        OffsetIndex index = OffsetIndex.empty(1000);
        Random random = new Random(1);
        long offset = LogFormat.SEGMENT_HEADER_SIZE;
        long[] offsets = new long[5000];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = offset;
            long end = offset + 8 + 50 + random.nextInt(300);
            index.onFrame(1000 + i, offset, end, i);
            offset = end;
        }
        long data = offset - LogFormat.SEGMENT_HEADER_SIZE;
        assertThat(index.count()).as("entries at least an interval and at most an interval plus one frame apart")
            .isBetween((int) (data / (OffsetIndex.INTERVAL_BYTES + 358)), (int) (data / OffsetIndex.INTERVAL_BYTES) + 1);
        assertThat(index.floorOffset(1000)).isEqualTo(LogFormat.SEGMENT_HEADER_SIZE);
        assertThat(index.floorOffset(999)).isEqualTo(LogFormat.SEGMENT_HEADER_SIZE);
        for (int i = 0; i < offsets.length; i += 37) {
            long floor = index.floorOffset(1000 + i);
            assertThat(floor).isLessThanOrEqualTo(offsets[i]);
            assertThat(offsets[i] - floor).as("a lookup starts within one interval (+ one frame) of its frame")
                .isLessThan(OffsetIndex.INTERVAL_BYTES + 400);
        }
        assertThat(index.dataEnd()).isEqualTo(offset);
        assertThat(index.lastPosition()).isEqualTo(1000 + offsets.length - 1);
    }

    @Test
    void survivesItsFileAndRejectsOneThatDoesNotMatchItsSegment() throws Exception {
        OffsetIndex index = OffsetIndex.empty(0);
        long offset = LogFormat.SEGMENT_HEADER_SIZE;
        for (int i = 0; i < 1000; i++) {
            index.onFrame(i, offset, offset + 100, i);
            offset += 100;
        }
        Path file = dir.resolve("x.idx");
        index.write(file);
        OffsetIndex loaded = OffsetIndex.load(file, 0, offset);
        assertThat(loaded).isNotNull();
        assertThat(loaded.count()).isEqualTo(index.count());
        for (int i = 0; i < index.count(); i++) {
            assertThat(loaded.positionAt(i)).isEqualTo(index.positionAt(i));
            assertThat(loaded.offsetAt(i)).isEqualTo(index.offsetAt(i));
        }
        loaded.onFrame(1000, offset, offset + 100, 0);
        assertThat(OffsetIndex.load(file, 0, offset + 1)).as("another segment size").isNull();
        assertThat(OffsetIndex.load(file, 7, offset)).as("another base position").isNull();
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        bytes[60] ^= 1;
        java.nio.file.Files.write(file, bytes);
        assertThat(OffsetIndex.load(file, 0, offset)).as("a damaged file").isNull();
    }
}
