package io.reel.store;

/**
 * What a scavenge did: sealed segments rewritten without unreadable records, whole segments dropped by
 * retention, records removed and bytes reclaimed.
 */
public record ScavengeReport(int segmentsRewritten, int segmentsDropped, long recordsRemoved, long bytesReclaimed) {
}
