package io.reel.store.internal.index;

import io.reel.store.StreamMetadata;
import io.reel.store.StreamSummary;
import io.reel.store.internal.log.SystemStreams;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Pages of the stream index in name order, for {@code streams.list}: one pass over the index per page
 * keeps the {@code limit} smallest names after the cursor in a bounded sorted map, so a listing holds at most
 * one page in memory however many streams there are, and a caller that stops early costs nothing more.
 * Metadata streams ({@code $$name}) are not listed; their streams carry the metadata.
 */
public final class StreamListing {
    private StreamListing() {
    }

    /** Up to {@code limit} streams whose names start with {@code prefix} and sort after {@code after}, in name order. */
    public static List<StreamSummary> page(StreamIndex index, String prefix, String after, int limit) {
        TreeMap<String, StreamSummary> page = new TreeMap<>();
        index.forEach((name, entry) -> {
            if (!name.startsWith(prefix) || name.compareTo(after) <= 0 || SystemStreams.isMetadataStream(name)) {
                return;
            }
            if (page.size() == limit && name.compareTo(page.lastKey()) > 0) {
                return;
            }
            StreamMetadata m = entry.metadata();
            long end = entry.endRevision();
            boolean deleted = entry.softDeleted() || m.hardDeleted();
            if (end == 0 && !deleted) {
                return;                                   // metadata set on a stream that has no events yet
            }
            long last = end == 0 ? -1 : entry.position(end - 1);
            page.put(name, new StreamSummary(name, Math.max(0, entry.revision()), Math.max(0, last), deleted));
            if (page.size() > limit) {
                page.pollLastEntry();
            }
        });
        return new ArrayList<>(page.values());
    }
}
