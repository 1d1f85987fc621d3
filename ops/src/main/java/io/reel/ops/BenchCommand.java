package io.reel.ops;

import io.reel.ops.bench.Bench;
import io.reel.ops.bench.BenchResult;
import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code reel bench WORKLOAD}: measures a workload and prints its figures, as a table or (with {@code --json})
 * as one JSON object per workload on one line (fields as DESIGN.md "Bench" names them).
 *
 * <p><b>Extension point.</b> A workload is a {@link Workload} registered in {@link #EMBEDDED} (runs on the
 * store in this process) or {@link #REMOTE} (runs over RSocket on loopback, chosen by {@code --remote}) under
 * its name. It gets the parsed {@link Bench.Options} and a stream for progress lines, and returns a
 * {@link BenchResult}. The embedded workloads come from {@link Bench}; a name registered nowhere, or only
 * for the other mode, fails with a sentence that says which workloads exist.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Measure a workload against the floor of this machine's disk, measured in the same run.",
        "Workloads: append, read, subscribe, restart (embedded); subscribe --remote, e2e, command as they are added.",
        "Prints events/s, MB/s, latency percentiles and the ratio to the floor; --json prints one JSON object per line."})
final class BenchCommand implements Callable<Integer> {
    /** One bench workload. */
    @FunctionalInterface
    interface Workload {
        BenchResult run(Bench.Options options, PrintStream progress);
    }

    /** Workloads on the embedded store, by name. */
    static final Map<String, Workload> EMBEDDED = new LinkedHashMap<>();
    /** Workloads over RSocket on loopback ({@code --remote}), by name. */
    static final Map<String, Workload> REMOTE = new LinkedHashMap<>();

    static {
        for (String name : Bench.workloads()) {
            EMBEDDED.put(name, (options, progress) -> new Bench(options, progress).run(name));
        }
    }

    /** The names a user may give, for help and error messages. */
    static final String KNOWN = "append, read, subscribe, restart, e2e, command";
    private static final java.util.Set<String> KNOWN_NAMES = java.util.Set.of(KNOWN.split(", "));

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "WORKLOAD", description = "One of: " + KNOWN + ".")
    String workload;

    @Option(names = "--data", paramLabel = "DIR", description = "Directory for the bench's stores (default: a new temporary one, deleted afterwards).")
    Path data;

    @Option(names = "--events", paramLabel = "N", defaultValue = "1000000", description = "Events to append or read (default: ${DEFAULT-VALUE}).")
    long events;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1000", description = "Events per append (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--payload", paramLabel = "BYTES", defaultValue = "100", description = "Bytes of data per event (default: ${DEFAULT-VALUE}).")
    int payload;

    @Option(names = "--producers", paramLabel = "N", defaultValue = "1", description = "Concurrent appenders (default: ${DEFAULT-VALUE}).")
    int producers;

    @Option(names = "--streams", paramLabel = "N", defaultValue = "1",
        description = "Streams each producer spreads its appends over (default: ${DEFAULT-VALUE}).")
    int streams;

    @Option(names = "--durability", paramLabel = "fsync|batched:MS", defaultValue = "fsync",
        converter = ServerCommand.DurabilityConverter.class, description = "Durability of the store (default: ${DEFAULT-VALUE}).")
    Durability durability;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "1",
        description = "Records per payload for remote reads and subscriptions (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--remote", description = "Run over RSocket on loopback instead of embedded.")
    boolean remote;

    @Option(names = "--json", description = "One JSON object per workload on one line.")
    boolean json;

    @Override
    public Integer call() {
        Map<String, Workload> registry = remote ? REMOTE : EMBEDDED;
        Workload w = registry.get(workload);
        if (w == null) {
            Map<String, Workload> other = remote ? EMBEDDED : REMOTE;
            String mode = remote ? "over RSocket (--remote)" : "embedded";
            String hint = other.containsKey(workload) ? "; it runs " + (remote ? "embedded (drop --remote)" : "only with --remote")
                : "; workloads " + mode + ": " + (registry.isEmpty() ? "none yet" : String.join(", ", registry.keySet()));
            if (!KNOWN_NAMES.contains(workload)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "unknown workload '" + workload + "'; choose one of " + KNOWN);
            }
            throw new ReelException(ErrorCode.NOT_FOUND, "the workload '" + workload + "' does not run " + mode + " yet" + hint);
        }
        if (events <= 0 || batch <= 0 || payload < 0 || producers <= 0 || streams <= 0 || maxBatch <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                "--events, --batch, --producers, --streams and --max-batch must be positive and --payload not negative");
        }
        boolean temporary = data == null;
        Path dir;
        try {
            dir = temporary ? Files.createTempDirectory("reel-bench") : Files.createDirectories(data);
        } catch (IOException e) {
            throw new ReelException(ErrorCode.IO_ERROR, "cannot create the bench directory: " + e, e);
        }
        try {
            BenchResult result = w.run(new Bench.Options(dir, events, batch, payload, producers, durability, maxBatch, streams), System.err);
            PrintWriter out = spec.commandLine().getOut();
            out.print(json ? result.toJson() + System.lineSeparator() : result.toTable());
            out.flush();
            return ReelCommand.ExitCodes.OK;
        } finally {
            if (temporary) {
                deleteTree(dir);
            }
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new ReelException(ErrorCode.IO_ERROR, "could not delete the temporary bench directory " + dir + ": " + e);
        }
    }
}
