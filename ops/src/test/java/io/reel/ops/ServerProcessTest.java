package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.EventStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code reel server} as a real child process: startup lines, refusals that say what to do, SIGTERM. */
@Timeout(120)
class ServerProcessTest {
    @TempDir
    Path dir;

    @Test
    void printsItsPortsThenReadyServesHttpAndStopsWithExitZeroOnSigterm() {
        Path data = dir.resolve("data");
        try (ServerProcess server = ServerProcess.start(data, dir.resolve("logs"))) {
            assertThat(server.listeners().keySet()).containsExactly("rsocket-tcp", "rsocket-ws", "http");
            assertThat(server.listeners().values()).allMatch(a -> a.matches("127\\.0\\.0\\.1:[1-9][0-9]*"));
            Http.Response health = Http.get(server.http(), "/health");
            assertThat(health.status()).isEqualTo(200);
            assertThat(HttpEndpointTest.object(health.body())).containsEntry("status", "ok");

            Cli.Result second = Cli.run("server", "--data", data.toString(), "--rsocket-port", "0", "--ws-port", "0", "--http-port", "0");
            assertThat(second.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
            assertThat(second.err()).startsWith("error: LOCKED: ").contains("pid " + server.pid());

            String port = server.http().substring(server.http().indexOf(':') + 1);
            Cli.Result busy = Cli.run("server", "--data", dir.resolve("other").toString(), "--rsocket-port", "0", "--ws-port", "0",
                "--http-port", port);
            assertThat(busy.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
            assertThat(busy.err()).startsWith("error: IO_ERROR: cannot listen for HTTP").contains("choose another --http-port");

            assertThat(server.terminate(Duration.ofSeconds(60))).as(server.stderr()).isZero();
            assertThat(server.stdoutLines()).last().isEqualTo("stopped");
        }
        try (EventStore reopened = EventStore.open(data)) {
            assertThat(reopened.recovery().truncatedBytes()).isZero();
        }
    }

    @Test
    void aTokensFileGatesTheClientVerbs() throws Exception {
        Path tokens = Files.writeString(dir.resolve("tokens"), "# who may do what\nreader-token read\nwriter-token write  # appends\n");
        try (ServerProcess server = ServerProcess.start(dir.resolve("data"), dir.resolve("logs"), "--tokens", tokens.toString())) {
            String tcp = server.listeners().get("rsocket-tcp");
            Cli.Result anonymous = Cli.run("read", "--server", tcp, "--token", "");
            assertThat(anonymous.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
            assertThat(anonymous.err()).startsWith("error: UNAUTHORIZED: ");
            Cli.Result reader = Cli.run("append", "--server", tcp, "--token", "reader-token", "s", "--type", "T", "--data", "{}");
            assertThat(reader.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
            assertThat(reader.err()).startsWith("error: UNAUTHORIZED: ");
            Cli.Result writer = Cli.run("append", "--server", tcp, "--token", "writer-token", "s", "--type", "T", "--data", "{}");
            assertThat(writer.exitCode()).as(writer.toString()).isZero();
            Cli.Result read = Cli.run("read", "--server", tcp, "--token", "reader-token", "s");
            assertThat(read.exitCode()).as(read.toString()).isZero();
            assertThat(read.out()).contains("s@0  T  {}");
            assertThat(server.terminate(Duration.ofSeconds(60))).isZero();
        }
        Cli.Result missing = Cli.run("server", "--data", dir.resolve("other").toString(), "--tokens", dir.resolve("no-such-file").toString());
        assertThat(missing.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(missing.err()).startsWith("error: INVALID_ARGUMENT: ").contains("--tokens");
    }
}
