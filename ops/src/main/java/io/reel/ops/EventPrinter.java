package io.reel.ops;

import io.reel.store.RecordedEvent;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Locale;

/**
 * How {@code reel read} and {@code reel tail} print events: one line each. Text lines are
 * {@code POSITION  STREAM@REVISION  TYPE  DATA}, data shown as text when its content type is JSON or text and
 * as {@code base64:...} otherwise; {@code --json} lines are objects with the fields of {@code EventRecord}
 * (data inlined as JSON when it is JSON, else base64 in {@code data_base64}).
 */
final class EventPrinter {
    private final PrintWriter out;
    private final boolean json;

    EventPrinter(PrintWriter out, boolean json) {
        this.out = out;
        this.json = json;
    }

    void print(RecordedEvent e) {
        out.println(json ? json(e) : text(e));
        out.flush();
    }

    static String text(RecordedEvent e) {
        return String.format(Locale.ROOT, "%-8d %s@%d  %s  %s", e.position(), e.stream(), e.revision(), e.type(), dataText(e));
    }

    static String json(RecordedEvent e) {
        Json.Writer w = new Json.Writer().beginObject()
            .field("position", e.position())
            .field("stream", e.stream())
            .field("revision", e.revision())
            .field("event_id", e.eventId().toString())
            .field("type", e.type())
            .field("content_type", e.contentType())
            .field("timestamp", Instant.ofEpochSecond(0, e.timestampMicros() * 1000).toString());
        byte[] data = e.data();
        if (isJson(e.contentType()) && parses(data)) {
            w.name("data").raw(new String(data, StandardCharsets.UTF_8).trim());
        } else {
            w.field("data_base64", Base64.getEncoder().encodeToString(data));
        }
        if (e.metadata().length > 0) {
            w.field("metadata_base64", Base64.getEncoder().encodeToString(e.metadata()));
        }
        return w.endObject().toString();
    }

    private static String dataText(RecordedEvent e) {
        byte[] data = e.data();
        String ct = e.contentType().toLowerCase(Locale.ROOT);
        if (isJson(ct) || ct.startsWith("text/")) {
            return new String(data, StandardCharsets.UTF_8).replace("\n", "\\n");
        }
        return "base64:" + Base64.getEncoder().encodeToString(data);
    }

    private static boolean isJson(String contentType) {
        String ct = contentType.toLowerCase(Locale.ROOT);
        return ct.startsWith("application/json") || ct.endsWith("+json");
    }

    private static boolean parses(byte[] data) {
        try {
            Json.parse(new String(data, StandardCharsets.UTF_8));
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
