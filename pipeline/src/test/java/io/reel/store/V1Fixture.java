package io.reel.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The events of the committed format-1 data directory {@code src/test/resources/v1-store} (made by Reel 0.1.0,
 * the last release that wrote format 1, with 64 KiB segments so that it has sealed segments, their offset
 * indexes and an active one). The directory was written by appending {@link #APPENDS} in order; this class
 * recomputes them so a test can compare what it reads with what was written.
 */
final class V1Fixture {
    static final int APPEND_COUNT = 120;
    static final long SEGMENT_SIZE = 64 * 1024;
    static final Path DIRECTORY = Paths.get("src", "test", "resources", "v1-store");

    /** One append of the fixture: its stream and events. */
    record Append(String stream, List<EventData> events) {
    }

    private V1Fixture() {
    }

    static List<Append> appends() {
        List<Append> appends = new ArrayList<>();
        int event = 0;
        for (int a = 0; a < APPEND_COUNT; a++) {
            String stream = "order-" + (a % 7);
            int n = 1 + a % 4;
            List<EventData> events = new ArrayList<>();
            for (int i = 0; i < n; i++, event++) {
                events.add(EventData.of(new UUID(0x5245454CL, event), "Type" + (event % 3),
                    event % 2 == 0 ? EventData.JSON : EventData.OCTET_STREAM, data(event), event % 5 == 0 ? metadata(event) : null));
            }
            appends.add(new Append(stream, events));
        }
        return appends;
    }

    static byte[] data(int event) {
        byte[] data = new byte[100 + event % 200];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (event * 31 + i);
        }
        return data;
    }

    static byte[] metadata(int event) {
        return ("{\"n\":" + event + "}").getBytes(StandardCharsets.UTF_8);
    }
}
