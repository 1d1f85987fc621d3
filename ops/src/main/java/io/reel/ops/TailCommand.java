package io.reel.ops;

import io.reel.store.ErrorCode;
import io.reel.store.EventFilter;
import io.reel.store.ReelException;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import io.reel.transport.ReelClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;

/**
 * {@code reel tail}: subscribes to a running server and prints events as they come, catching up first when
 * it starts in the past; runs until Ctrl-C or {@code --count} events. Says on standard error when it has
 * caught up, so that standard output holds events only.
 */
@Command(name = "tail", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Follow the log of a running server: print events as they are appended (catching up first with --from),",
        "until Ctrl-C or --count events. Filters select streams (prefix or regex) and event types (set or regex)."},
    footer = {"", "Examples:", "  reel tail", "  reel tail --from start --stream-prefix order- --type OrderPlaced",
        "  reel tail --name billing --json     # resumes where the last 'billing' tail stopped"})
final class TailCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = "--from", paramLabel = "start|end|POSITION", defaultValue = "end",
        description = "Where to start: start, end (live only, the default) or a position (inclusive).")
    String from;

    @Option(names = "--stream-prefix", paramLabel = "PREFIX", description = "Only streams starting with PREFIX (repeatable).")
    List<String> streamPrefixes = new ArrayList<>();

    @Option(names = "--stream-regex", paramLabel = "REGEX", description = "Only streams in which REGEX finds a match.")
    String streamRegex;

    @Option(names = "--type", paramLabel = "TYPE", description = "Only events of this type (repeatable).")
    List<String> types = new ArrayList<>();

    @Option(names = "--type-regex", paramLabel = "REGEX", description = "Only event types in which REGEX finds a match.")
    String typeRegex;

    @Option(names = "--name", paramLabel = "NAME",
        description = "A durable subscription: resume from NAME's stored checkpoint, and store it as events are printed.")
    String name;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0", description = "Stop after N events; 0 runs until Ctrl-C (default).")
    long count;

    @Option(names = "--json", description = "One JSON object per event.")
    boolean json;

    @Override
    public Integer call() {
        if (count < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must not be negative");
        }
        SubscribeOptions options = start(from).filter(EventFilter.builder().streamPrefixes(streamPrefixes).eventTypes(types)
            .streamRegex(streamRegex).typeRegex(typeRegex).build());
        if (name != null) {
            options = options.name(name);
        }
        EventPrinter printer = new EventPrinter(spec.commandLine().getOut(), json);
        PrintWriter err = spec.commandLine().getErr();
        try (ReelClient reel = client.connect()) {
            Flux<SubscriptionMessage> messages = reel.subscribe(options).doOnNext(m -> {
                if (m instanceof SubscriptionMessage.Event e) {
                    printer.print(e.event());
                } else if (m instanceof SubscriptionMessage.CaughtUp c) {
                    err.println("-- caught up at position " + c.nextPosition() + "; following live appends");
                    err.flush();
                }
                if (name != null && !(m instanceof SubscriptionMessage.CaughtUp)) {
                    reel.checkpoint(name, m.nextPosition()).subscribe(null, e -> { });
                }
            });
            Flux<SubscriptionMessage> events = messages.filter(m -> m instanceof SubscriptionMessage.Event);
            (count > 0 ? events.take(count) : events).blockLast();
        }
        return ReelCommand.ExitCodes.OK;
    }

    static SubscribeOptions start(String from) {
        switch (from) {
            case "start":
                return SubscribeOptions.fromStart();
            case "end":
                return SubscribeOptions.fromEnd();
            default:
                try {
                    return SubscribeOptions.fromPosition(Long.parseLong(from));
                } catch (NumberFormatException e) {
                    throw new ReelException(ErrorCode.INVALID_ARGUMENT, "--from '" + from + "' is not start, end or a position");
                }
        }
    }
}
