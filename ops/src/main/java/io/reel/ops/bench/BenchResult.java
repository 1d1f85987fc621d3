package io.reel.ops.bench;

import com.google.gson.FormattingStyle;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The figures of one workload, with the floor measured in the same run where one applies. Latencies are in
 * microseconds; {@code mbPerSec} counts payload bytes. Null fields do not apply to the workload.
 */
public record BenchResult(String workload, long events, double seconds, double eventsPerSec, double mbPerSec, Double p50Us, Double p99Us,
                          Double p999Us, Double floorEventsPerSec, Double ratioToFloor, Map<String, Object> details) {

    private static final Gson JSON = new GsonBuilder().disableHtmlEscaping().serializeNulls()
        .setFormattingStyle(FormattingStyle.COMPACT.withSpaceAfterSeparators(true)).create();

    /** One JSON object on one line, fields as DESIGN.md "Bench" names them. */
    public String toJson() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("workload", workload);
        fields.put("events", events);
        fields.put("seconds", round(seconds));
        fields.put("events_per_sec", round(eventsPerSec));
        fields.put("mb_per_sec", round(mbPerSec));
        put(fields, "p50_us", p50Us);
        put(fields, "p99_us", p99Us);
        put(fields, "p999_us", p999Us);
        put(fields, "floor_events_per_sec", floorEventsPerSec);
        put(fields, "ratio_to_floor", ratioToFloor);
        details.forEach((k, v) -> fields.put(k, v instanceof Double d ? round(d) : v));
        return JSON.toJson(fields);
    }

    /** A human-readable block. */
    public String toTable() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%-10s %,d events in %.2f s: %,.0f events/s, %.1f MB/s%n", workload, events, seconds,
            eventsPerSec, mbPerSec));
        if (p50Us != null) {
            b.append(String.format(Locale.ROOT, "%-10s latency p50 %.0f us, p99 %.0f us, p99.9 %.0f us%n", "", p50Us, p99Us, p999Us));
        }
        if (floorEventsPerSec != null) {
            b.append(String.format(Locale.ROOT, "%-10s floor %,.0f events/s, ratio to floor %.2f%n", "", floorEventsPerSec, ratioToFloor));
        }
        details.forEach((k, v) -> b.append(String.format(Locale.ROOT, "%-10s %s = %s%n", "", k,
            v instanceof Double d ? String.format(Locale.ROOT, "%.2f", d) : v)));
        return b.toString();
    }

    private static void put(Map<String, Object> fields, String name, Double value) {
        if (value != null) {
            fields.put(name, round(value));
        }
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
