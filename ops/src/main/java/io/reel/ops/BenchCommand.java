package io.reel.ops;

import io.reel.store.Durability;
import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.io.IOException;
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
 * {@code reel bench WORKLOAD}: measures a workload and prints its figures, as text or (with {@code --json})
 * as one JSON object per line with at least {@code workload}, {@code events}, {@code seconds},
 * {@code events_per_sec}, {@code mb_per_sec} and, where the workload has latencies, {@code p50_us},
 * {@code p99_us}, {@code p999_us}.
 *
 * <p><b>Extension point.</b> A workload is a {@link BenchWorkload} registered in {@link #WORKLOADS} under its
 * name; it gets the parsed {@link BenchWorkload.Options} and returns a {@link BenchWorkload.Result}. The
 * embedded {@code append} and {@code read} workloads are here; {@code subscribe}, {@code e2e} and
 * {@code command}, and the comparison with the floor ({@code floor_events_per_sec}, {@code ratio_to_floor}),
 * belong to the bench issue and answer "not yet" until they are registered.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Measure a workload: append, read, subscribe (--remote over RSocket), e2e, command.",
        "Prints events/s, MB/s and latency percentiles; --json prints one JSON object per workload on one line."})
final class BenchCommand implements Callable<Integer> {
    /** Every workload by name, in the order {@code --help} lists them. */
    static final Map<String, BenchWorkload> WORKLOADS = new LinkedHashMap<>();

    static {
        WORKLOADS.put("append", new BenchWorkloads.Append());
        WORKLOADS.put("read", new BenchWorkloads.Read());
        WORKLOADS.put("subscribe", BenchWorkloads.notYet("subscribe"));
        WORKLOADS.put("e2e", BenchWorkloads.notYet("e2e"));
        WORKLOADS.put("command", BenchWorkloads.notYet("command"));
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "WORKLOAD", description = "append, read, subscribe, e2e or command.")
    String workload;

    @Option(names = "--data", paramLabel = "DIR", description = "Data directory (default: a new temporary one, deleted afterwards).")
    Path data;

    @Option(names = "--events", paramLabel = "N", defaultValue = "200000", description = "Events to append or read (default: ${DEFAULT-VALUE}).")
    long events;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1000", description = "Events per append (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--payload", paramLabel = "BYTES", defaultValue = "100", description = "Bytes of data per event (default: ${DEFAULT-VALUE}).")
    int payload;

    @Option(names = "--producers", paramLabel = "N", defaultValue = "1", description = "Concurrent appenders (default: ${DEFAULT-VALUE}).")
    int producers;

    @Option(names = "--durability", paramLabel = "fsync|batched:MS", defaultValue = "fsync",
        converter = ServerCommand.DurabilityConverter.class, description = "Durability of the store (default: ${DEFAULT-VALUE}).")
    Durability durability;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "1",
        description = "Records per payload for remote reads and subscriptions (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--remote", description = "Run over RSocket on loopback instead of embedded (where the workload supports it).")
    boolean remote;

    @Option(names = "--json", description = "One JSON object per workload on one line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        BenchWorkload w = WORKLOADS.get(workload);
        if (w == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown workload '" + workload + "'; choose one of "
                + String.join(", ", WORKLOADS.keySet()));
        }
        if (events <= 0 || batch <= 0 || payload < 0 || producers <= 0 || maxBatch <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                "--events, --batch, --producers and --max-batch must be positive and --payload not negative");
        }
        boolean temporary = data == null;
        Path dir = temporary ? Files.createTempDirectory("reel-bench") : data;
        try {
            BenchWorkload.Result result = w.run(new BenchWorkload.Options(dir, events, batch, payload, producers, durability, maxBatch, remote));
            PrintWriter out = spec.commandLine().getOut();
            out.println(json ? result.toJson() : result.toText());
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
