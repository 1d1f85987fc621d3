package io.reel.ops;

import io.reel.store.StreamSummary;
import io.reel.transport.ReelClient;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code reel streams}: lists the streams of a running server in name order ({@code streams.list}). */
@Command(name = "streams", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"List the streams of a running server in name order, with their revision and the position of their last event.",
        "One line per stream: STREAM  REVISION  LAST_POSITION  [deleted] (or JSON with --json)."},
    footer = {"", "Examples:", "  reel streams", "  reel streams --prefix order- --count 20", "  reel streams --prefix order- --after order-41"})
final class StreamsCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = "--prefix", paramLabel = "P", defaultValue = "", description = "Only streams whose names start with P.")
    String prefix;

    @Option(names = "--after", paramLabel = "NAME", defaultValue = "",
        description = "Start after this name (the last one of the previous page).")
    String after;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0", description = "At most N streams; 0 for all (default: ${DEFAULT-VALUE}).")
    long count;

    @Option(names = "--json", description = "One JSON object per stream: stream, revision, last_position, deleted.")
    boolean json;

    @Override
    public Integer call() {
        if (count < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must not be negative");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (ReelClient reel = client.connect()) {
            client.progressing(reel.listStreams(prefix, after, count), "stream list").doOnNext(s -> out.println(json ? json(s) : line(s)))
                .blockLast();
        }
        out.flush();
        return ReelCommand.ExitCodes.OK;
    }

    static String line(StreamSummary s) {
        return String.format("%-32s %8d %10d%s", s.stream(), s.revision(), s.lastPosition(), s.deleted() ? "  deleted" : "");
    }

    static String json(StreamSummary s) {
        return Json.write(object(s));
    }

    /** {@code stream, revision, last_position, deleted}: the JSON shape of a stream for the CLI and the dashboard. */
    static Map<String, Object> object(StreamSummary s) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("stream", s.stream());
        o.put("revision", s.revision());
        o.put("last_position", s.lastPosition());
        o.put("deleted", s.deleted());
        return o;
    }
}
