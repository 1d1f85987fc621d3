package io.reel.store.groups;

/** What a consumer of a group does with an event it could not handle. */
public enum Nack {
    /** Deliver it again (a retry; after {@link GroupOptions#maxRetries()} it is parked). */
    RETRY,
    /** Set it aside: readable with {@link ConsumerGroups#parked}, back into the group with {@link ConsumerGroups#replayParked}. */
    PARK,
    /** Drop it, as if acknowledged. */
    SKIP
}
