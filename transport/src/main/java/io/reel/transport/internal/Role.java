package io.reel.transport.internal;

/** What a bearer token grants. Each role includes the ones before it: {@code write} ⊇ {@code read}, {@code admin} ⊇ both. */
public enum Role {
    /** Reads, subscriptions, checkpoints of named subscriptions, stream metadata, info, projections, group status and parked events. */
    READ,
    /** Appends, joining a group (acknowledging takes events off it), replaying parked events, and everything {@link #READ} may do. */
    WRITE,
    /**
     * Stream deletion and stream metadata changes (both hide events for good), creating, changing and deleting
     * groups, and everything {@link #WRITE} may do.
     */
    ADMIN;

    public boolean grants(Role needed) {
        return compareTo(needed) >= 0;
    }

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
