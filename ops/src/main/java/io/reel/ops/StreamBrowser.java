package io.reel.ops;

import io.reel.store.Direction;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import io.reel.store.EventStore;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The JSON behind the dashboard's stream browser, read from the store as the requests come (never on a
 * Netty thread: the store's reads run on its reader threads):
 * <ul>
 *   <li>{@code GET /api/streams?prefix=P&after=NAME&limit=N}: streams in name order
 *       ({@code stream, revision, last_position, deleted});</li>
 *   <li>{@code GET /api/events?stream=NAME&limit=N}: a stream's events, newest first;</li>
 *   <li>{@code GET /api/tail?from=POSITION&limit=N}: the records of {@code $all} from that position on, inclusive
 *       (without {@code from}: the last N), oldest first, for the live tail the page polls.</li>
 * </ul>
 * An event carries {@code size} (bytes of data) and either {@code text} (data of a JSON or text content type, as
 * UTF-8; the page pretty-prints JSON) or {@code hex} (the first 64 bytes of any other data). {@code text} is the
 * first {@value #TEXT_BYTES} bytes at most, cut at a character boundary, with {@code "truncated": true} when it is
 * cut: a page of a thousand events of a megabyte each would otherwise be a gigabyte of JSON built in the server's
 * memory for a table cell that shows a few lines.
 */
final class StreamBrowser {
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    private static final int HEX_BYTES = 64;
    static final int TEXT_BYTES = 4096;

    private final EventStore store;

    StreamBrowser(EventStore store) {
        this.store = store;
    }

    Mono<String> streams(Map<String, List<String>> query) {
        String prefix = first(query, "prefix", "");
        String after = first(query, "after", "");
        int limit = limit(query);
        return store.listStreams(prefix, after, limit).map(StreamsCommand::object).collectList().map(Json::write);
    }

    Mono<String> events(Map<String, List<String>> query) {
        String stream = first(query, "stream", "");
        if (stream.isEmpty()) {
            return Mono.error(ReelException.invalidArgument("give the stream: /api/events?stream=NAME"));
        }
        return records(store.readStream(stream, EventSource.END, limit(query), Direction.BACKWARDS));
    }

    Mono<String> tail(Map<String, List<String>> query) {
        int limit = limit(query);
        String from = first(query, "from", "");
        if (from.isEmpty()) {
            return store.readAll(EventSource.END, limit, Direction.BACKWARDS, EventFilter.none()).collectList()
                .flatMap(newestFirst -> records(Flux.fromIterable(newestFirst).sort((a, b) -> Long.compare(a.position(), b.position()))));
        }
        return records(store.readAll(number("from", from), limit, Direction.FORWARDS, EventFilter.none()));
    }

    private static Mono<String> records(Flux<RecordedEvent> events) {
        return events.map(StreamBrowser::object).collectList().map(Json::write);
    }

    static Map<String, Object> object(RecordedEvent e) {
        byte[] data = e.data();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("position", e.position());
        o.put("stream", e.stream());
        o.put("revision", e.revision());
        o.put("type", e.type());
        o.put("content_type", e.contentType());
        o.put("timestamp", Instant.ofEpochSecond(0, e.timestampMicros() * 1000).toString());
        o.put("size", data.length);
        if (isText(e.contentType())) {
            int length = textLength(data);
            o.put("text", new String(data, 0, length, StandardCharsets.UTF_8));
            if (length < data.length) {
                o.put("truncated", true);
            }
        } else {
            o.put("hex", HexFormat.ofDelimiter(" ").formatHex(data, 0, Math.min(data.length, HEX_BYTES)));
        }
        return o;
    }

    /**
     * How many leading bytes of {@code data} {@code text} shows: all of it up to {@value #TEXT_BYTES}, else
     * {@value #TEXT_BYTES} moved back to the start of a UTF-8 sequence, so no character is cut in two.
     */
    static int textLength(byte[] data) {
        if (data.length <= TEXT_BYTES) {
            return data.length;
        }
        int end = TEXT_BYTES;
        while (end > 0 && (data[end] & 0xC0) == 0x80) {
            end--;
        }
        return end;
    }

    static boolean isText(String contentType) {
        String t = contentType.toLowerCase(Locale.ROOT);
        return t.startsWith("application/json") || t.endsWith("+json") || t.startsWith("text/");
    }

    private static int limit(Map<String, List<String>> query) {
        long n = number("limit", first(query, "limit", String.valueOf(DEFAULT_LIMIT)));
        if (n < 1 || n > MAX_LIMIT) {
            throw ReelException.invalidArgument("limit " + n + " is out of range; give 1 to " + MAX_LIMIT);
        }
        return (int) n;
    }

    private static long number(String name, String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ReelException.invalidArgument(name + " '" + text + "' is not a number");
        }
    }

    private static String first(Map<String, List<String>> query, String name, String fallback) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? fallback : values.get(0);
    }
}
