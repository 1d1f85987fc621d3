package io.reel.store;

/** The direction of a read. */
public enum Direction {
    FORWARDS,
    BACKWARDS
}
