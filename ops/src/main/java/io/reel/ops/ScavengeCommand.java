package io.reel.ops;

import io.reel.store.EventStore;
import io.reel.store.ScavengeReport;
import io.reel.store.StoreSettings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code reel scavenge}: opens the store (so the directory must not be in use by a server) and reclaims the
 * bytes of records no read can return any more: deleted or truncated streams, events beyond maxCount or maxAge.
 */
@Command(name = "scavenge", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Reclaim the space of deleted, truncated and expired events by rewriting sealed segments.",
        "Positions of surviving events never change. The directory must not be in use (stop the server first)."})
final class ScavengeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR", required = true, description = "Data directory to scavenge.")
    Path data;

    @Option(names = "--quiet", description = "Show no progress (on a terminal a progress bar, otherwise one summary line on standard error).")
    boolean quiet;

    @Override
    public Integer call() {
        DataDirs.requireDataDir(data, "--data");
        if (java.nio.file.Files.isDirectory(data.resolve("raft"))) {
            // a node's log must stay the cluster's, position for position: a replay or a snapshot import reads it so
            throw new io.reel.store.ReelException(io.reel.store.ErrorCode.INVALID_ARGUMENT, data + " is a cluster node's data directory"
                + " (it has a raft directory): scavenging one node would make its log differ from the others'; a cluster is not"
                + " scavenged yet");
        }
        ScavengeReport report;
        StoreSettings settings = StoreSettings.builder().progress(ProgressReporter.forCommand(quiet, spec.commandLine().getErr())).build();
        try (EventStore store = EventStore.open(data, settings)) {
            report = store.scavenge().block(Duration.ofHours(24));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("scavenged " + data.toAbsolutePath());
        out.printf("  segments rewritten  %d%n", report.segmentsRewritten());
        out.printf("  segments dropped    %d%n", report.segmentsDropped());
        out.printf("  records removed     %d%n", report.recordsRemoved());
        out.printf("  bytes reclaimed     %d (%s)%n", report.bytesReclaimed(), Sizes.human(report.bytesReclaimed()));
        out.flush();
        return ReelCommand.ExitCodes.OK;
    }
}
