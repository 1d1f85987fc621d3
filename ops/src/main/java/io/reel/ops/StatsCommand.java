package io.reel.ops;

import io.reel.store.StoreAdmin;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code reel stats}: a data directory at a glance, read from its files without opening the store (runs beside a server). */
@Command(name = "stats", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Show a data directory at a glance: head, segments, bytes, streams, checkpoints, which process holds it.",
        "Reads the files only; runs beside a live server (whose /api/stats shows rates and lag)."})
final class StatsCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", required = true, description = "Data directory.")
    Path data;

    @Override
    public Integer call() {
        DataDirs.requireDataDir(data, "--data");
        StoreAdmin.Stats stats = StoreAdmin.stats(data);
        PrintWriter out = spec.commandLine().getOut();
        out.println(data.toAbsolutePath());
        out.printf("  head         %d%n", stats.head());
        out.printf("  segments     %d%n", stats.segments());
        out.printf("  bytes        %d (%s, preallocated space included)%n", stats.bytes(), Sizes.human(stats.bytes()));
        out.printf("  streams      %s%n", stats.streams() < 0 ? "unknown (no stream index checkpoint yet)" : stats.streams()
            + " (as of the index checkpoint at position " + stats.indexedUpTo() + ")");
        out.printf("  checkpoints  %s%n", stats.checkpoints().isEmpty() ? "none" : String.join(", ", stats.checkpoints()));
        out.printf("  in use by    %s%n", stats.lockHolder() == null ? "nobody" : stats.lockHolder());
        out.flush();
        return ReelCommand.ExitCodes.OK;
    }
}
