package io.reel.ops;

import io.reel.store.Durability;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reel server}: opens the data directory and serves it until SIGTERM (or SIGINT).
 *
 * <p>Once every listener is bound it prints one line per listener, {@code NAME HOST:PORT}
 * ({@code rsocket-tcp}, {@code rsocket-ws}, {@code http}), then {@code ready}: with port 0 that is how a
 * script or a test learns the ports. On SIGTERM a shutdown hook closes the listeners, lets the store write
 * and force every append it has queued, closes it, prints {@code stopped} and ends the process with exit
 * code 0 (the JVM's default for a signal would be 143).
 */
@Command(name = "server", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Serve a data directory over RSocket (TCP and WebSocket) and HTTP (/metrics, /health, /api/stats, dashboard at /).",
        "Prints 'rsocket-tcp HOST:PORT', 'rsocket-ws HOST:PORT' and 'http HOST:PORT', then 'ready'.",
        "SIGTERM or Ctrl-C: writes every queued append, forces it, closes and exits 0."},
    footer = {"", "Examples:", "  reel server", "  reel server --data /var/lib/reel --http-port 0 --durability batched:5",
        "  reel server --segment-size 1m --max-event-size 256k"})
final class ServerCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
        description = "A properties file of settings, one 'flag-name=value' a line (segment-size=1m). Every flag can also be set "
            + "with an environment variable REEL_FLAG_NAME (REEL_SEGMENT_SIZE=1m). Precedence: flag > environment > file > default.")
    Path config;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "reel-data",
        description = "Data directory, created if missing (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--rsocket-port", paramLabel = "N", defaultValue = "7070",
        description = "RSocket TCP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int rsocketPort;

    @Option(names = "--ws-port", paramLabel = "N", defaultValue = "7071",
        description = "RSocket WebSocket port (path /rsocket); 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int wsPort;

    @Option(names = "--http-port", paramLabel = "N", defaultValue = "9090",
        description = "HTTP port for /metrics, /health, /api/stats and the dashboard; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int httpPort;

    @Option(names = "--durability", paramLabel = "fsync|batched:MS", defaultValue = "fsync", converter = DurabilityConverter.class,
        description = "fsync: acknowledge after the force (default). batched:MS: acknowledge after the write, force at least every MS ms.")
    Durability durability;

    @Option(names = "--segment-size", paramLabel = "BYTES", defaultValue = "256m", converter = SizeConverter.class,
        description = "Size of a log segment file, e.g. 268435456, 64m, 1g (default: ${DEFAULT-VALUE}).")
    long segmentSize;

    @Option(names = "--compression", paramLabel = "none|lz4", defaultValue = "none",
        description = "Compress each append's frame with LZ4 (lz4) or not (none, the default). Reads handle both whatever this says.")
    String compression;
    @Option(names = "--max-event-size", paramLabel = "BYTES", defaultValue = "1m", converter = SizeConverter.class,
        description = "Largest data + metadata of one event, e.g. 256k; larger appends fail with TOO_LARGE. A segment must hold one "
            + "such event (default: ${DEFAULT-VALUE}).")
    long maxEventSize;

    @Option(names = "--max-events-per-append", paramLabel = "N", defaultValue = "10000",
        description = "Most events in one append; more fail with TOO_LARGE (default: ${DEFAULT-VALUE}).")
    int maxEventsPerAppend;

    @Option(names = "--tokens", paramLabel = "FILE",
        description = "Require bearer tokens: one 'TOKEN ROLE' pair a line (roles read, write, admin; '#' starts a comment).")
    Path tokens;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "Serve TLS on both RSocket listeners with this PEM certificate (chain).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "The PEM PKCS#8 private key that goes with --tls-cert.")
    Path tlsKey;

    @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
        description = "Address every listener binds to (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--repair",
        description = "If acknowledged data is damaged, quarantine the damaged files and open anyway, reporting how many events were lost.")
    boolean repair;

    @Option(names = "--quiet", description = "Show no progress while the store opens (the settings and listener lines are still printed).")
    boolean quiet;
    @CommandLine.Mixin
    ClusterOptions cluster = new ClusterOptions();

    @Override
    public Integer call() throws InterruptedException {
        StoreSettings.Compression frames = switch (compression) {
            case "none" -> StoreSettings.Compression.NONE;
            case "lz4" -> StoreSettings.Compression.LZ4;
            default -> throw ReelException.invalidArgument("--compression " + compression + " is not known; give none or lz4");
        };
        ServerDefaults defaults = spec.defaultValueProvider() instanceof ServerDefaults d ? d : null;
        if (defaults != null) {
            defaults.check(spec);
        }
        ServerRuntime.Config config = new ServerRuntime.Config(data, host, rsocketPort, wsPort, httpPort, durability, segmentSize, tokens,
            tlsCert, tlsKey, repair, maxEventSize, maxEventsPerAppend, frames, cluster.settings());
        PrintWriter out = spec.commandLine().getOut();
        ServerRuntime runtime = ServerRuntime.start(config, ProgressReporter.forCommand(quiet, spec.commandLine().getErr()));
        if (defaults != null) {   // once it runs: a refusal to start stays one 'error: CODE: sentence' line
            PrintWriter err = spec.commandLine().getErr();
            err.println("settings (flag > REEL_* environment > config file > default):");
            defaults.effectiveSettings(spec, spec.commandLine().getParseResult()).forEach(err::println);
            if (config.cluster() != null) {
                err.println("  (a cluster node acknowledges a write once a majority has forced its Raft entry; --durability does not apply)");
            }
            err.flush();
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> shutdown(runtime, out, stopped), "reel-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        for (String line : runtime.listenerLines()) {
            out.println(line);
        }
        out.println("ready");
        out.flush();
        stopped.await();
        return ReelCommand.ExitCodes.OK;
    }

    /**
     * Runs in the shutdown hook. Ends the process itself with {@code halt}: a signal would otherwise end it
     * with 128 + the signal's number, and a clean shutdown is a success.
     */
    private static void shutdown(ServerRuntime runtime, PrintWriter out, CountDownLatch stopped) {
        int exit = ReelCommand.ExitCodes.OK;
        try {
            runtime.close();
            out.println("stopped");
        } catch (Throwable e) {
            System.err.println("error: shutting down: " + ReelCommand.describe(e));
            exit = ReelCommand.ExitCodes.FAILED;
        } finally {
            out.flush();
            System.err.flush();
            stopped.countDown();
        }
        Runtime.getRuntime().halt(exit);
    }

    static final class DurabilityConverter implements CommandLine.ITypeConverter<Durability> {
        @Override
        public Durability convert(String value) {
            try {
                return Durability.parse(value);
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return Sizes.parseBytes(value);
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
