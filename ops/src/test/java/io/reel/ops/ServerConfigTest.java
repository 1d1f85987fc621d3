package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code reel server --config FILE} and {@code REEL_*} variables: precedence flag > environment > file > default. */
@Timeout(90)
class ServerConfigTest {
    @TempDir
    Path dir;

    private ServerCommand parse(Map<String, String> env, String... args) {
        CommandLine cli = ReelCommand.commandLine(env, args);
        CommandLine.ParseResult parsed = cli.parseArgs(args);
        return (ServerCommand) parsed.subcommand().commandSpec().userObject();
    }

    @Test
    void aFlagBeatsTheEnvironmentWhichBeatsTheFileWhichBeatsTheDefault() throws IOException {
        Path file = dir.resolve("reel.properties");
        Files.writeString(file, """
            # a server for tests
            segment-size = 1m
            max-event-size=256k
            http-port=9191
            ws-port=9292
            repair=true
            """);
        Map<String, String> env = Map.of("REEL_HTTP_PORT", "9393", "REEL_WS_PORT", "9494", "REEL_UNRELATED", "x");
        ServerCommand server = parse(env, "server", "--config", file.toString(), "--ws-port", "9595");
        assertThat(server.wsPort).as("flag").isEqualTo(9595);
        assertThat(server.httpPort).as("environment over file").isEqualTo(9393);
        assertThat(server.segmentSize).as("file").isEqualTo(1024 * 1024);
        assertThat(server.maxEventSize).as("file").isEqualTo(256 * 1024);
        assertThat(server.repair).as("file, a boolean flag").isTrue();
        assertThat(server.rsocketPort).as("default").isEqualTo(7070);
        assertThat(server.data).as("default").isEqualTo(Path.of("reel-data"));

        ServerCommand fromEnvFile = parse(Map.of("REEL_CONFIG", file.toString()), "server");
        assertThat(fromEnvFile.segmentSize).as("REEL_CONFIG names the file").isEqualTo(1024 * 1024);
        ServerCommand plain = parse(Map.of(), "server");
        assertThat(plain.segmentSize).isEqualTo(256L * 1024 * 1024);
    }

    @Test
    void aMisspeltKeyOrAMissingFileIsRefusedNamingIt() throws IOException {
        Path file = dir.resolve("reel.properties");
        Files.writeString(file, "segment_size=1m\n");
        Cli.Result misspelt = Cli.run(Map.of(), "server", "--config", file.toString());
        assertThat(misspelt.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(misspelt.err()).startsWith("error: INVALID_ARGUMENT: the config file").contains("sets 'segment_size'")
            .contains("segment-size");
        Cli.Result missing = Cli.run(Map.of(), "server", "--config", dir.resolve("nope.properties").toString());
        assertThat(missing.exitCode()).isEqualTo(ReelCommand.ExitCodes.FAILED);
        assertThat(missing.err()).contains("cannot be read").contains("nope.properties");
        Cli.Result badValue = Cli.run(Map.of("REEL_SEGMENT_SIZE", "huge"), "server");
        assertThat(badValue.exitCode()).isEqualTo(ReelCommand.ExitCodes.USAGE);
        assertThat(badValue.err()).contains("huge");
    }

    @Test
    void theServerPrintsItsEffectiveSettingsWithWhereEachCameFrom() throws IOException {
        Path file = dir.resolve("reel.properties");
        Files.writeString(file, "max-event-size=256k\nhost=127.0.0.1\n");
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "s3cret-token admin\n");
        try (ServerProcess server = ServerProcess.start(Map.of("REEL_SEGMENT_SIZE", "1m", "REEL_TOKENS", tokens.toString()),
            dir.resolve("data"), dir.resolve("logs"), "--config", file.toString(), "--durability", "batched:5")) {
            String err = server.stderr();
            assertThat(err).contains("settings (flag > REEL_* environment > config file > default):");
            List<String> lines = err.lines().toList();
            assertThat(lines).anySatisfy(l -> assertThat(l).matches("\\s+segment-size\\s+1m\\s+\\(environment REEL_SEGMENT_SIZE\\)"));
            assertThat(lines).anySatisfy(l -> assertThat(l).matches("\\s+max-event-size\\s+256k\\s+\\(file .*reel.properties\\)"));
            assertThat(lines).anySatisfy(l -> assertThat(l).matches("\\s+durability\\s+batched:5\\s+\\(flag\\)"));
            assertThat(lines).anySatisfy(l -> assertThat(l).matches("\\s+rsocket-port\\s+0\\s+\\(flag\\)"));
            assertThat(lines).anySatisfy(l -> assertThat(l).matches("\\s+repair\\s+false\\s+\\(default\\)"));
            assertThat(err).doesNotContain("s3cret-token");
            assertThat(server.terminate(Duration.ofSeconds(30))).isZero();
        }
    }
}
