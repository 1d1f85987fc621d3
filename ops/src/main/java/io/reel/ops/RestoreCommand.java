package io.reel.ops;

import io.reel.store.StoreAdmin;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reel restore}: copies a backup into an empty data directory and verifies the result, so that a
 * restore that would not open says so at once.
 */
@Command(name = "restore", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Restore a backup into a new or empty data directory, then verify the result.",
        "Exit 0 when the restored directory verifies clean, 1 when it does not, 3 when the backup is refused",
        "(interrupted, or changed since it was taken)."})
final class RestoreCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--from", paramLabel = "SRC", required = true, description = "A backup made by 'reel backup'.")
    Path from;

    @Option(names = "--data", paramLabel = "DIR", required = true, description = "Target data directory: new or empty.")
    Path data;

    @Option(names = "--quiet", description = "Show no progress (on a terminal a progress bar, otherwise one summary line on standard error).")
    boolean quiet;

    @Override
    public Integer call() {
        DataDirs.requireDataDir(from, "--from");
        ProgressReporter progress = ProgressReporter.forCommand(quiet, spec.commandLine().getErr());
        StoreAdmin.restore(from, data, progress);
        StoreAdmin.VerifyReport report = StoreAdmin.verify(data, progress);
        PrintWriter out = spec.commandLine().getOut();
        out.println("restored " + from.toAbsolutePath() + " into " + data.toAbsolutePath());
        out.printf("  head      %d%n", report.head());
        out.printf("  segments  %d%n", report.segments());
        out.printf("  bytes     %d (%s)%n", report.bytes(), Sizes.human(report.bytes()));
        if (!report.clean()) {
            out.println("DAMAGE: the restored directory does not verify clean; run 'reel verify --data " + data + "' for the details");
            out.flush();
            return ReelCommand.ExitCodes.DAMAGE;
        }
        out.println("verified clean; start it with 'reel server --data " + data + "'");
        out.flush();
        return ReelCommand.ExitCodes.OK;
    }
}
