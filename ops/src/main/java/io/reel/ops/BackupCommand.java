package io.reel.ops;

import io.reel.store.StoreAdmin;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reel backup}: an online copy of a data directory, consistent up to its head, taken while a server
 * may keep appending (it takes no lock): sealed segments as they are, the active one up to its last whole
 * append, the indexes, checkpoints and snapshots.
 */
@Command(name = "backup", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Copy a data directory, consistent up to its head, while a server keeps running on it.",
        "The copy holds every event below the head it reports; restore it with 'reel restore'."},
    footer = {"", "Example:", "  reel backup --data reel-data --to /backups/reel-$(date +%%F)"})
final class BackupCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", required = true, description = "Data directory to copy (a server may be running on it).")
    Path data;

    @Option(names = "--to", paramLabel = "DEST", required = true, description = "Destination: a new or empty directory.")
    Path to;

    @Option(names = "--quiet", description = "Show no progress (on a terminal a progress bar, otherwise one summary line on standard error).")
    boolean quiet;

    @Override
    public Integer call() {
        DataDirs.requireDataDir(data, "--data");
        StoreAdmin.BackupReport report = StoreAdmin.backup(data, to, ProgressReporter.forCommand(quiet, spec.commandLine().getErr()));
        PrintWriter out = spec.commandLine().getOut();
        out.println("backed up " + data.toAbsolutePath() + " to " + to.toAbsolutePath());
        out.printf("  head      %d (every event below it is in the backup)%n", report.head());
        out.printf("  segments  %d%n", report.segments());
        out.printf("  bytes     %d (%s)%n", report.bytes(), Sizes.human(report.bytes()));
        out.printf("  files     %d%n", report.files());
        out.flush();
        return ReelCommand.ExitCodes.OK;
    }
}
