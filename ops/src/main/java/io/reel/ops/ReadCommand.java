package io.reel.ops;

import io.reel.store.Direction;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.RecordedEvent;
import io.reel.transport.ReelClient;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import reactor.core.publisher.Flux;

/** {@code reel read}: prints the events of a stream, or of {@code $all}, from a running server, and ends. */
@Command(name = "read", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Print the events of a stream (or of the whole log, $all, without STREAM) from a running server, then end.",
        "One line per event: POSITION  STREAM@REVISION  TYPE  DATA (or JSON with --json)."},
    footer = {"", "Examples:", "  reel read order-42", "  reel read --from 1000 --count 10", "  reel read order-42 --backwards --count 1 --json"})
final class ReadCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(index = "0", arity = "0..1", paramLabel = "STREAM", description = "The stream; without it, the whole log ($all).")
    String stream;

    @Option(names = "--from", paramLabel = "N",
        description = "First revision (of STREAM) or position (of $all) to read, inclusive (default: the start, or the end with --backwards).")
    Long from;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0", description = "At most N events; 0 for all (default: ${DEFAULT-VALUE}).")
    long count;

    @Option(names = "--backwards", description = "Newest first.")
    boolean backwards;

    @Option(names = "--json", description = "One JSON object per event.")
    boolean json;

    @Override
    public Integer call() {
        if (count < 0 || (from != null && from < 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--from and --count must not be negative");
        }
        Direction direction = backwards ? Direction.BACKWARDS : Direction.FORWARDS;
        long start = from != null ? from : backwards ? EventSource.END : 0;
        EventPrinter printer = new EventPrinter(spec.commandLine().getOut(), json);
        try (ReelClient reel = client.connect()) {
            Flux<RecordedEvent> events = stream == null ? reel.readAll(start, count, direction, EventFilter.none())
                : reel.readStream(stream, start, count, direction);
            client.progressing(events, "read").doOnNext(printer::print).blockLast();
        }
        return ReelCommand.ExitCodes.OK;
    }
}
