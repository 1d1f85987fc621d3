package io.reel.store;

/**
 * The store at a glance: its head, how many segments and bytes the log holds, the Reel version and the
 * durability mode.
 */
public record StoreInfo(long head, long segments, long bytes, String version, String durability) {
}
