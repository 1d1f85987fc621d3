package io.reel.ops;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.store.StoreSettings;
import io.reel.transport.ServerSettings;

/**
 * The server's size limits checked against each other once, before anything opens, with errors in the terms
 * of the command line: each names the flags to change and the smallest (or largest) value that works.
 *
 * <p>A segment must hold one largest event with its frame header, names and the segment header; an event
 * must fit in one RSocket frame (16 MiB) with the rest of its append request.
 */
final class ServerLimits {
    /** Room left in an RSocket frame for an append request's stream name, ids, type and framing. */
    static final long FRAME_OVERHEAD = 64 * 1024;
    /** The largest {@code --max-event-size}: one event in one RSocket frame. */
    static final long LARGEST_MAX_EVENT_SIZE = ServerSettings.MAX_FRAME_SIZE + 1L - FRAME_OVERHEAD;

    private ServerLimits() {
    }

    static void check(long segmentSize, long maxEventSize, int maxEventsPerAppend) {
        if (maxEventSize < 1 || maxEventSize > LARGEST_MAX_EVENT_SIZE) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "--max-event-size " + Sizes.flag(maxEventSize) + " is out of range: an event "
                + "is sent in one RSocket frame of at most 16m; give --max-event-size between 1 and " + Sizes.flagFloor(LARGEST_MAX_EVENT_SIZE));
        }
        if (maxEventsPerAppend < 1) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "--max-events-per-append " + maxEventsPerAppend
                + " is out of range; give --max-events-per-append 1 or more (default " + ServerRuntime.Config.DEFAULT_MAX_EVENTS_PER_APPEND + ")");
        }
        long smallestSegment = StoreSettings.minimumSegmentSize((int) maxEventSize);
        if (segmentSize < smallestSegment) {
            int largestEvent = StoreSettings.largestEventSize(segmentSize);
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "--segment-size " + Sizes.flag(segmentSize) + " cannot hold one event of "
                + "--max-event-size " + Sizes.flag(maxEventSize) + " (a segment needs " + smallestSegment + " bytes for it, with the "
                + "segment and frame headers and the event's names); give --segment-size " + Sizes.flagCeil(smallestSegment) + " or more"
                + (largestEvent >= 1024 ? ", or --max-event-size " + Sizes.flagFloor(largestEvent) + " or less" : ""));
        }
    }
}
