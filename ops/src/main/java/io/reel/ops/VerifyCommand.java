package io.reel.ops;

import io.reel.store.StoreAdmin;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reel verify}: checks every segment header, every frame's length, CRC and position, whole appends,
 * segment contiguity, the offset indexes and the stream index checkpoint, without taking the directory's
 * lock (so it runs beside a server). Exit 0 when clean, 1 when damage was found.
 */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Check a data directory (or a backup): every frame's CRC and header, segment contiguity, indexes.",
        "Runs beside a live server. Exit 0 when clean, 1 when damage was found (each problem with file, offset, position)."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:clean (notes only describe what the next open cuts or rebuilds: nothing acknowledged is lost)",
        "1:damage found", "2:invalid command line", "3:the directory could not be checked (missing, not a Reel directory, I/O error)"})
final class VerifyCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", required = true, description = "Data directory or backup to check.")
    Path data;

    @Option(names = "--quiet", description = "Show no progress (on a terminal a progress bar, otherwise one summary line on standard error).")
    boolean quiet;

    @Override
    public Integer call() {
        DataDirs.requireDataDir(data, "--data");
        StoreAdmin.VerifyReport report = StoreAdmin.verify(data, ProgressReporter.forCommand(quiet, spec.commandLine().getErr()));
        PrintWriter out = spec.commandLine().getOut();
        out.println("verified " + data.toAbsolutePath());
        out.printf("  segments  %d%n", report.segments());
        out.printf("  events    %d (head %d)%n", report.records(), report.head());
        out.printf("  bytes     %d (%s)%n", report.bytes(), Sizes.human(report.bytes()));
        for (String note : report.notes()) {
            out.println("  note: " + note);
        }
        if (report.clean()) {
            out.println("clean");
            out.flush();
            return ReelCommand.ExitCodes.OK;
        }
        out.println("DAMAGE: " + report.problems().size() + " problem(s)");
        for (StoreAdmin.Problem p : report.problems()) {
            out.println("  file " + data.toAbsolutePath().relativize(p.file().toAbsolutePath()) + "  offset " + p.offset()
                + "  position " + (p.position() >= 0 ? String.valueOf(p.position()) : "-") + "  " + p.what());
        }
        out.println("Acknowledged data is damaged. Keep a copy of the directory; 'reel server --repair' quarantines the damaged "
            + "files and reports how many events were lost, or restore a backup ('reel restore').");
        out.flush();
        return ReelCommand.ExitCodes.DAMAGE;
    }
}
