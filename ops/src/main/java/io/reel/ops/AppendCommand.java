package io.reel.ops;

import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.transport.ReelClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * {@code reel append}: appends events to a stream of a running server, atomically. One event from
 * {@code --data}, or one event per non-empty line of standard input.
 */
@Command(name = "append", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
    description = {"Append events to a stream of a running server, atomically (all or none).",
        "One event from --data, or, without --data, one event per non-empty line of standard input."},
    footer = {"", "Examples:", "  reel append order-42 --type OrderPlaced --data '{\"total\": 12}'",
        "  printf '{\"n\":1}\\n{\"n\":2}\\n' | reel append ticks --type Ticked --expected no-stream"})
public final class AppendCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(index = "0", paramLabel = "STREAM", description = "The stream, e.g. order-42.")
    String stream;

    @Option(names = "--type", paramLabel = "TYPE", required = true, description = "The event type, e.g. OrderPlaced.")
    String type;

    @Option(names = "--data", paramLabel = "DATA", description = "The event's data (JSON unless --content-type says otherwise).")
    String data;

    @Option(names = "--content-type", paramLabel = "MIME", defaultValue = "application/json",
        description = "Content type of the data (default: ${DEFAULT-VALUE}); JSON data is checked before it is sent.")
    String contentType;

    @Option(names = "--metadata", paramLabel = "JSON", description = "Metadata for every event of the append.")
    String metadata;

    @Option(names = "--expected", paramLabel = "any|no-stream|exists|N", defaultValue = "any",
        description = "What the stream must be at: any (default), no-stream, exists, or its revision N.")
    String expected;

    @Option(names = "--id", paramLabel = "UUID", description = "The event id (with --data); retrying with the same id is idempotent.")
    UUID id;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() {
        ExpectedRevision expectation = expectation(expected);
        List<EventData> events = events();
        // one round trip: the append itself (no info first), which also checks the token and the connection
        try (ReelClient reel = client.open()) {
            AppendResult r = client.explained(() -> reel.append(stream, expectation, events).block(client.blockLimit()));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("first_position", r.firstPosition());
                result.put("last_position", r.lastPosition());
                result.put("next_expected_revision", r.nextExpectedRevision());
                out.println(Json.write(result));
            } else {
                out.printf("appended %d event(s) to %s at position%s; the stream is at revision %d%n", events.size(), stream,
                    r.firstPosition() == r.lastPosition() ? " " + r.firstPosition() : "s " + r.firstPosition() + ".." + r.lastPosition(),
                    r.nextExpectedRevision());
            }
            out.flush();
        }
        return ReelCommand.ExitCodes.OK;
    }

    /** The most lines one run reads: the store's default limit of events per append. */
    static final int MAX_LINES = 10_000;
    /** The most characters one run reads: the default frame limit. */
    static final long MAX_INPUT_CHARS = 16L * 1024 * 1024;

    private List<EventData> events() {
        List<String> bodies = new ArrayList<>();
        if (data != null) {
            bodies.add(data);
        } else {
            if (id != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--id goes with --data (one event); lines from standard input get new ids");
            }
            if (System.console() != null) {
                // standard input is a terminal: say what is awaited rather than look hung
                spec.commandLine().getErr().println("reading events from standard input, one per line; end with Ctrl-D");
            }
            try {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                long chars = 0;
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (!line.isBlank()) {
                        bodies.add(line);
                        chars += line.length();
                        // one append holds at most this many events and bytes: stop reading before holding the whole input
                        if (bodies.size() > MAX_LINES || chars > MAX_INPUT_CHARS) {
                            throw new ReelException(ErrorCode.TOO_LARGE, "standard input holds more than " + MAX_LINES + " events or "
                                + MAX_INPUT_CHARS / (1024 * 1024) + " MiB, more than one append takes; split it and run 'reel append' once a part");
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (bodies.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "no events: give --data, or event data on standard input, one per line");
            }
        }
        boolean isJson = contentType.toLowerCase(Locale.ROOT).startsWith("application/json");
        byte[] meta = metadata == null ? null : metadata.getBytes(StandardCharsets.UTF_8);
        List<EventData> events = new ArrayList<>(bodies.size());
        for (int i = 0; i < bodies.size(); i++) {
            String body = bodies.get(i);
            if (isJson) {
                try {
                    Json.parse(body);
                } catch (IllegalArgumentException e) {
                    throw new ReelException(ErrorCode.INVALID_ARGUMENT, (data != null ? "--data" : "line " + (i + 1) + " of standard input")
                        + " is " + e.getMessage() + "; send JSON, or set --content-type");
                }
            }
            events.add(EventData.of(data != null ? id : null, type, contentType, body.getBytes(StandardCharsets.UTF_8), meta));
        }
        return events;
    }

    static ExpectedRevision expectation(String text) {
        switch (text.toLowerCase(Locale.ROOT)) {
            case "any":
                return ExpectedRevision.ANY;
            case "no-stream":
                return ExpectedRevision.NO_STREAM;
            case "exists":
                return ExpectedRevision.STREAM_EXISTS;
            default:
                try {
                    return ExpectedRevision.exactly(Long.parseLong(text));
                } catch (NumberFormatException e) {
                    throw new ReelException(ErrorCode.INVALID_ARGUMENT, "--expected '" + text + "' is not any, no-stream, exists or a revision number");
                }
        }
    }
}
