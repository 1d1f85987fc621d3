package io.reel.transport.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reel.proto.ClusterMember;
import io.reel.proto.ClusterSnapshot;
import java.util.List;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.Test;

/** The pure part of cluster snapshots: names, order, what a purge removes, the metadata file's bytes. */
class SnapshotLayoutTest {
    private static final ClusterSnapshot SNAPSHOT = ClusterSnapshot.newBuilder().setHead(1234).setStampMicros(99)
        .addMembers(ClusterMember.newBuilder().setId("a").setRsocket("127.0.0.1:7070")).build();

    @Test
    void namesRoundTripAndOnlyCompleteDirectoriesParse() {
        TermIndex ti = TermIndex.valueOf(3, 40_000);
        assertThat(SnapshotLayout.dirName(ti)).isEqualTo("snapshot-3-40000");
        assertThat(SnapshotLayout.parse("snapshot-3-40000")).isEqualTo(ti);
        for (String other : List.of("snapshot-3-40000.tmp", "snapshot-3", "snapshot-3-4-5", "snapshot--1-2", "snapshot-03-40000",
            "snapshot.3_40000", "sm", "snapshot-x-1", "")) {
            assertThat(SnapshotLayout.parse(other)).as(other).isNull();
        }
    }

    @Test
    void newestIsTheHighestIndexWhateverTheListingOrder() {
        assertThat(SnapshotLayout.newestFirst(List.of("snapshot-1-900", "snapshot-2-10000", "x", "snapshot-2-2000", "snapshot-2-9999.tmp")))
            .containsExactly("snapshot-2-10000", "snapshot-2-2000", "snapshot-1-900");
    }

    @Test
    void aPurgeKeepsTheTwoNewestAndDropsStaleUnfinishedOnes() {
        List<String> names = List.of("snapshot-1-100", "snapshot-1-300", "snapshot-2-500", "snapshot-1-200", "snapshot-1-250.tmp",
            "snapshot-2-600.tmp", "notes");
        assertThat(SnapshotLayout.toPurge(names, 2))
            .as("600.tmp may be being written; 250.tmp is left by a crash")
            .containsExactlyInAnyOrder("snapshot-1-200", "snapshot-1-100", "snapshot-1-250.tmp");
        assertThat(SnapshotLayout.toPurge(List.of("snapshot-1-100"), 2)).isEmpty();
        assertThat(SnapshotLayout.toPurge(List.of("snapshot-1-100.tmp"), 2)).as("no complete snapshot: nothing is stale").isEmpty();
    }

    @Test
    void metadataRoundTripsAndEveryDamageIsRefused() {
        TermIndex ti = TermIndex.valueOf(2, 777);
        byte[] bytes = SnapshotLayout.encodeMeta(new SnapshotLayout.Meta(ti, SNAPSHOT));
        SnapshotLayout.Meta decoded = SnapshotLayout.decodeMeta(bytes, ti);
        assertThat(decoded.termIndex()).isEqualTo(ti);
        assertThat(decoded.snapshot()).isEqualTo(SNAPSHOT);

        for (int i = 0; i < bytes.length; i++) {
            byte[] damaged = bytes.clone();
            damaged[i] ^= 0x10;
            int at = i;
            assertThatThrownBy(() -> SnapshotLayout.decodeMeta(damaged, ti)).as("a flipped bit at byte %d", at)
                .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> SnapshotLayout.decodeMeta(java.util.Arrays.copyOf(bytes, bytes.length - 1), ti))
            .hasMessageContaining("does not match its size");
        assertThatThrownBy(() -> SnapshotLayout.decodeMeta(bytes, TermIndex.valueOf(2, 778)))
            .hasMessageContaining("not of");
        assertThatThrownBy(() -> SnapshotLayout.decodeMeta(new byte[3], ti)).hasMessageContaining("fewer than a header");
    }
}
