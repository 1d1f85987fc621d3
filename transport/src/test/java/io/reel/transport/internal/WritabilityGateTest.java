package io.reel.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.rsocket.Payload;
import io.rsocket.util.DefaultPayload;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * The gate's second bound, on a channel that stays writable: payloads a stream passed on that have not been written
 * to the channel yet (they wait in rsocket-java's queue until the event loop drains it) hold the stream back, and
 * writes let it on again. Without that bound a stream faster than the event loop filled the queue without end.
 */
class WritabilityGateTest {
    private static final int PAYLOAD = 1000;
    private static final int TOTAL = 10_000;

    @Test
    void payloadsNotYetWrittenHoldTheStreamBackAndWritesLetItOn() {
        EmbeddedChannel channel = new EmbeddedChannel();
        WritabilityGate gate = new WritabilityGate(channel);
        channel.pipeline().addFirst(gate);
        List<Payload> passedOn = new ArrayList<>();
        gate.pace(Flux.range(0, TOTAL).map(i -> DefaultPayload.create(new byte[PAYLOAD]))).subscribe(passedOn::add);

        int bound = (WritabilityGate.UNSENT_LIMIT + WritabilityGate.CHUNK_BYTES) / PAYLOAD + 1;
        assertThat(channel.isWritable()).isTrue();
        assertThat(passedOn).as("payloads passed on while none was written").hasSizeGreaterThan(100).hasSizeLessThanOrEqualTo(bound);

        // each write lets the stream on again, never further than the bound ahead of what was written
        int written = 0;
        while (written < passedOn.size()) {
            channel.writeAndFlush(Unpooled.wrappedBuffer(passedOn.get(written).getData()));
            written++;
            assertThat(passedOn.size() - written).as("passed on and not written after %d writes", written).isLessThanOrEqualTo(bound);
        }
        assertThat(passedOn).as("every payload, once the earlier ones were written").hasSize(TOTAL);
        channel.finishAndReleaseAll();
    }
}
