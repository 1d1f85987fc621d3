package io.reel.ops;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * {@code reel server} in a child JVM, started as a user would start it (the test class path stands in for
 * the jar): waits for the listener lines and {@code ready}, and stops it with SIGTERM.
 */
final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private final Map<String, String> listeners = new LinkedHashMap<>();

    private ServerProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Starts {@code reel server --data DATA --rsocket-port 0 --ws-port 0 --http-port 0 EXTRA...} and waits for {@code ready}. */
    static ServerProcess start(Path data, Path logs, String... extra) {
        ServerProcess server = launch(Map.of(), data, logs, extra);
        server.awaitReady(Duration.ofSeconds(60));
        return server;
    }

    /** As {@link #start(Path, Path, String...)}, with {@code env} added to the child's environment. */
    static ServerProcess start(Map<String, String> env, Path data, Path logs, String... extra) {
        ServerProcess server = launch(env, data, logs, extra);
        server.awaitReady(Duration.ofSeconds(60));
        return server;
    }

    /** As {@link #start}, without waiting: call {@link #awaitReady} (several servers start side by side). */
    static ServerProcess launch(Path data, Path logs, String... extra) {
        return launch(Map.of(), data, logs, extra);
    }

    private static ServerProcess launch(Map<String, String> env, Path data, Path logs, String... extra) {
        return launch(env, null, data, logs, extra);
    }

    /**
     * As {@link #launch(Path, Path, String...)}, run in {@code workDir} with {@code data} given relative to it, as a
     * user who types {@code --data data-a} does (cluster snapshots once broke on relative paths).
     */
    static ServerProcess launchIn(Path workDir, Path data, Path logs, String... extra) {
        return launch(Map.of(), workDir, workDir.relativize(data), logs, extra);
    }

    private static ServerProcess launch(Map<String, String> env, Path workDir, Path data, Path logs, String... extra) {
        try {
            Files.createDirectories(logs);
            Path out = Files.createTempFile(logs, "server", ".out");
            Path err = Files.createTempFile(logs, "server", ".err");
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), ReelCommand.class.getName(), "server",
                "--data", data.toString(), "--rsocket-port", "0", "--ws-port", "0", "--http-port", "0"));
            command.addAll(List.of(extra));
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            builder.environment().putAll(env);
            if (workDir != null) {
                builder.directory(workDir.toFile());
            }
            return new ServerProcess(builder.start(), out, err);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void awaitReady(Duration timeout) {
        try {
            await("'ready' from the server").atMost(timeout).pollInterval(Duration.ofMillis(50)).until(() -> {
                if (!process.isAlive() && !stdoutLines().contains("ready")) {
                    throw new AssertionError("the server exited with " + process.exitValue() + " before 'ready':\n" + stderr());
                }
                return stdoutLines().contains("ready");
            });
        } catch (ConditionTimeoutException e) {
            process.destroyForcibly();
            throw new AssertionError("the server printed no 'ready' within " + timeout + ":\n" + stdoutLines() + "\n" + stderr(), e);
        }
        List<String> lines = stdoutLines();
        for (String line : lines.subList(0, lines.indexOf("ready"))) {
            String[] parts = line.split(" ");
            listeners.put(parts[0], parts[1]);
        }
    }

    /** Listener name ({@code rsocket-tcp}, {@code rsocket-ws}, {@code http}) to {@code HOST:PORT}, as printed. */
    Map<String, String> listeners() {
        return listeners;
    }

    String http() {
        return listeners.get("http");
    }

    long pid() {
        return process.pid();
    }

    /** Sends SIGTERM and waits for the exit code. */
    int terminate(Duration timeout) {
        process.toHandle().destroy();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the server did not stop within " + timeout + " of SIGTERM:\n" + stderr());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return process.exitValue();
    }

    List<String> stdoutLines() {
        try {
            return Files.readAllLines(stdout, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String stderr() {
        try {
            return Files.readString(stderr, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills the process with SIGKILL (no shutdown of any kind) and waits until it is gone. */
    void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the server was still running 30 s after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Sends a signal by name ({@code STOP} freezes the process as {@code kill -STOP} does, {@code CONT} resumes it). */
    void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Kills the process if a test left it running. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
