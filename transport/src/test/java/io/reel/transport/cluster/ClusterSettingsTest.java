package io.reel.transport.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {
    private static final String PEERS = "a=127.0.0.1:9701,b=127.0.0.1:9702,c=127.0.0.1:9703";

    @Test
    void parsesPeersAndListeners() {
        ClusterSettings s = ClusterSettings.of("d", PEERS, "d=127.0.0.1:9704", null);
        assertThat(s.peers()).containsKeys("a", "b", "c");
        assertThat(s.isListener()).isTrue();
        assertThat(s.raftAddress()).isEqualTo("127.0.0.1:9704");
        assertThat(s.electionTimeout()).isEqualTo(ClusterSettings.DEFAULT_ELECTION_TIMEOUT);
    }

    @Test
    void badCommandLinesGetSentencesThatSayWhatToChange() {
        assertInvalid(() -> ClusterSettings.of(null, PEERS, null, null), "needs --node-id");
        assertInvalid(() -> ClusterSettings.of("x", PEERS, null, null), "--node-id 'x' is not in --peers (a,b,c)");
        assertInvalid(() -> ClusterSettings.of("a", "a=127.0.0.1", null, null), "is not ID=HOST:PORT");
        assertInvalid(() -> ClusterSettings.of("a", "a=127.0.0.1:0", null, null), "has no port 1-65535");
        assertInvalid(() -> ClusterSettings.of("a", "a=h:1,a=h:2", null, null), "names node 'a' twice");
        assertInvalid(() -> ClusterSettings.of("a", PEERS, "a=127.0.0.1:9704", null), "in both --peers and --listeners");
        assertInvalid(() -> ClusterSettings.of("a", PEERS, null, Duration.ofMillis(10)), "--election-timeout 10 ms is outside");
    }

    private static void assertInvalid(Runnable call, String sentence) {
        assertThatThrownBy(call::run).isInstanceOf(ReelException.class)
            .satisfies(e -> assertThat(((ReelException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
            .hasMessageContaining(sentence);
    }
}
