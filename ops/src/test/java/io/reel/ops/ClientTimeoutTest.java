package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.EventStore;
import io.reel.store.ReelException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * {@code --timeout} bounds the wait of {@code reel read} and {@code reel streams} for the server's next answer,
 * reconnecting included: ReelClient resumes a read for as long as it is subscribed, so a verb must give up itself.
 */
@Timeout(120)
class ClientTimeoutTest {
    static final int EVENTS = 20_000;

    @TempDir
    Path dir;

    /**
     * Deterministic: the verb's first line blocks (as a full pipe would) until the server is dead, so the read is
     * mid-way, with most of the log neither sent nor asked for, when the server goes.
     */
    @Test
    void aReadFromAServerKilledMidwayFailsAfterTimeoutAndSaysHowToRaiseIt() throws Exception {
        Path data = dir.resolve("data");
        try (EventStore store = EventStore.open(data)) {
            Stores.append(store, "ticks", EVENTS, 1000);
        }
        try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"))) {
            String tcp = server.listeners().get("rsocket-tcp");
            // a first answer from a JVM that just started can be slow on a loaded machine; the read below has 5 s for its own
            Cli.Result warm = Cli.run("read", "--server", tcp, "--count", "1", "--timeout", "60");
            assertThat(warm.exitCode()).as(warm.toString()).isZero();

            CountDownLatch printing = new CountDownLatch(1);
            CountDownLatch killed = new CountDownLatch(1);
            StringWriter printed = new StringWriter();
            Writer stalling = new Writer() {
                @Override
                public void write(char[] chars, int off, int len) {
                    printing.countDown();
                    try {
                        killed.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    printed.write(chars, off, len);
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            };
            StringWriter err = new StringWriter();
            String[] args = {"read", "--server", tcp, "--timeout", "5"};
            CommandLine cli = ReelCommand.commandLine(Map.of(), args);
            cli.setOut(new PrintWriter(stalling, true));
            cli.setErr(new PrintWriter(err, true));
            CompletableFuture<Integer> read = CompletableFuture.supplyAsync(() -> cli.execute(args));

            assertThat(printing.await(60, TimeUnit.SECONDS)).as("the read printed its first event").isTrue();
            server.kill();
            killed.countDown();

            int exit = read.get(60, TimeUnit.SECONDS);
            assertThat(exit).as(err.toString()).isEqualTo(ReelCommand.ExitCodes.FAILED);
            assertThat(err.toString()).startsWith("error: IO_ERROR: the read from " + tcp + " stopped: nothing came for 5 s (--timeout)")
                .contains("raise --timeout (e.g. --timeout 30)");
            assertThat(printed.toString().lines().count()).as("stopped mid-way").isPositive().isLessThan(EVENTS);
        }
    }

    @Test
    void aLongReadGoesOnWhileItemsComeAndFailsOnceNoneComesForTheTimeout() {
        ClientOptions options = new ClientOptions();
        options.server = "127.0.0.1:7070";
        options.timeoutSeconds = 5;
        StepVerifier.withVirtualTime(() -> options.progressing(Flux.interval(Duration.ofSeconds(4)).take(10), "read"))
            .expectSubscription()
            .thenAwait(Duration.ofSeconds(40))
            .expectNextCount(10)
            .verifyComplete();
        StepVerifier.withVirtualTime(() -> options.progressing(Flux.interval(Duration.ofSeconds(1)).take(3).concatWith(Flux.never()),
                "stream list"))
            .expectSubscription()
            .thenAwait(Duration.ofSeconds(3))
            .expectNextCount(3)
            .thenAwait(Duration.ofSeconds(5))
            .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ReelException.class)
                .hasMessageStartingWith("IO_ERROR: the stream list from 127.0.0.1:7070 stopped: nothing came for 5 s (--timeout)"))
            .verify(Duration.ofSeconds(10));
    }
}
