package io.reel.store.groups;

import java.util.List;

/**
 * A persistent subscription group as metrics and the dashboard see it.
 *
 * @param checkpoint the lowest position not yet done: every record below it was acknowledged, skipped or parked
 * @param lagEvents  records between the checkpoint and the head
 * @param lagSeconds age of the oldest outstanding record (now minus its commit time), 0 when none
 * @param inFlight   deliveries awaiting acknowledgement
 * @param parked     events parked
 * @param consumers  the consumers joined now
 */
public record GroupStatus(String name, String filter, long checkpoint, long lagEvents, double lagSeconds, int inFlight, long parked,
                          List<Consumer> consumers) {
    /** One consumer of a group. */
    public record Consumer(String id, int inFlight, long delivered, long acked) {
    }
}
