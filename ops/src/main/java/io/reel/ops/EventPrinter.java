package io.reel.ops;

import com.google.gson.JsonElement;
import io.reel.store.RecordedEvent;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

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
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("position", e.position());
        w.put("stream", e.stream());
        w.put("revision", e.revision());
        w.put("event_id", e.eventId().toString());
        w.put("type", e.type());
        w.put("content_type", e.contentType());
        w.put("timestamp", Instant.ofEpochSecond(0, e.timestampMicros() * 1000).toString());
        byte[] data = e.data();
        JsonElement inline = isJson(e.contentType()) ? parsed(data) : null;
        if (inline != null) {
            w.put("data", inline);
        } else {
            w.put("data_base64", Base64.getEncoder().encodeToString(data));
        }
        if (e.metadata().length > 0) {
            w.put("metadata_base64", Base64.getEncoder().encodeToString(e.metadata()));
        }
        return Json.write(w);
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

    /** The data as a JSON tree, or null when it is not valid JSON. */
    private static JsonElement parsed(byte[] data) {
        try {
            return Json.element(new String(data, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
