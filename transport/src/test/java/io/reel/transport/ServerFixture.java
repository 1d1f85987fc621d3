package io.reel.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.store.EventStore;
import io.reel.store.StoreSettings;
import io.rsocket.exceptions.ApplicationErrorException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** A real store in a temporary directory and a real server on 127.0.0.1, ports picked by the system. */
final class ServerFixture implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final EventStore store;
    final ReelServer server;

    ServerFixture(Path dir) {
        this(dir, b -> { });
    }

    ServerFixture(Path dir, Consumer<ServerSettings.Builder> settings) {
        store = EventStore.open(dir, storeSettings(registry));
        ServerSettings.Builder b = ServerSettings.builder().tcpPort(0).webSocketPort(0);
        settings.accept(b);
        try {
            server = ReelServer.start(store, b.build());
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    static StoreSettings storeSettings(SimpleMeterRegistry registry) {
        return StoreSettings.builder().segmentSize(8L << 20).meterRegistry(registry).build();
    }

    double rejected(String code) {
        var c = registry.find("reel.transport.rejected").tag("code", code).counter();
        return c == null ? 0 : c.count();
    }

    @Override
    public void close() {
        server.close();
        store.close();
    }

    static void assertFails(Mono<?> call, String code) {
        StepVerifier.create(call).expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ApplicationErrorException.class)
            .hasMessageStartingWith(code + ": ")).verify(TIMEOUT);
    }

    static void assertFails(Flux<?> call, String code) {
        StepVerifier.create(call).expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ApplicationErrorException.class)
            .hasMessageStartingWith(code + ": ")).verify(TIMEOUT);
    }
}
