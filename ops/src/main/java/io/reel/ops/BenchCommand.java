package io.reel.ops;

import io.reel.ops.bench.Bench;
import io.reel.ops.bench.BenchResult;
import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
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
 * <p><b>Extension point.</b> A workload is a {@link Workload} registered in {@link #WORKLOADS} under its name:
 * it gets the parsed {@link Bench.Options} (with {@code --remote}) and a stream for progress lines, and
 * returns a {@link BenchResult}. Every workload of {@link Bench} is registered; a name registered nowhere
 * fails with the list of those that are.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Measure a workload against the floor of this machine's disk, measured in the same run.",
        "Workloads: append, read, subscribe, e2e, command, projection, restart, group (--remote: over RSocket on loopback),",
        "cluster (three nodes as child processes on loopback, the standalone figure beside it).",
        "Prints events/s, MB/s, latency percentiles and the ratio to the floor; --json prints one JSON object per line."})
final class BenchCommand implements Callable<Integer> {
    /** One bench workload. */
    @FunctionalInterface
    interface Workload {
        BenchResult run(Bench.Options options, PrintStream progress);
    }

    /** Every workload, by name, in the order the help lists them. */
    static final Map<String, Workload> WORKLOADS = new LinkedHashMap<>();

    static {
        for (String name : Bench.workloads()) {
            WORKLOADS.put(name, (options, progress) -> new Bench(options, progress).run(name));
        }
        WORKLOADS.put("cluster", ClusterBench::run);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "WORKLOAD", description = "append, read, read-stream, subscribe, e2e, command, projection, restart, group or cluster.")
    String workload;

    @Option(names = "--data", paramLabel = "DIR", description = "Directory for the bench's stores (default: a new temporary one, deleted afterwards).")
    Path data;

    @Option(names = "--events", paramLabel = "N", defaultValue = "1000000", description = "Events to append or read (default: ${DEFAULT-VALUE}).")
    long events;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1000", description = "Events per append (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--payload", paramLabel = "BYTES", defaultValue = "100", description = "Bytes of data per event (default: ${DEFAULT-VALUE}).")
    int payload;

    @Option(names = "--producers", paramLabel = "N", defaultValue = "1",
        description = "Concurrent appenders; for group, remote consumers (default: ${DEFAULT-VALUE}).")
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

    @Option(names = "--remote", description = "append, subscribe, e2e, projection: over RSocket on loopback instead of embedded"
        + " (append: through ReelClient, beside the embedded figure of the same run).")
    boolean remote;

    @Option(names = "--no-coalesce", description = "append --remote: send every append on the plain append route, as a client"
        + " without batching does, instead of coalescing them into append.batch requests.")
    boolean noCoalesce;

    @Option(names = "--json", description = "One JSON object per workload on one line.")
    boolean json;

    @Override
    public Integer call() {
        Workload w = WORKLOADS.get(workload);
        if (w == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown workload '" + workload + "'; choose one of "
                + String.join(", ", WORKLOADS.keySet()));
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
            BenchResult result = w.run(new Bench.Options(dir, events, batch, payload, producers, durability, maxBatch, streams, remote,
                !noCoalesce), linesTo(spec.commandLine().getErr()));
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

    /** Progress lines on the command's error writer (stderr, or what an embedding program set), a line at a time. */
    private static PrintStream linesTo(PrintWriter err) {
        return new PrintStream(new ByteArrayOutputStream() {
            @Override
            public synchronized void flush() {
                err.print(toString(StandardCharsets.UTF_8));
                err.flush();
                reset();
            }
        }, true, StandardCharsets.UTF_8);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new ReelException(ErrorCode.IO_ERROR, "could not delete the temporary bench directory " + dir + ": " + e);
        }
    }
}
