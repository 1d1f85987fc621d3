package io.reel.store;

/**
 * One live subscription as metrics and the dashboard see it.
 *
 * @param name        the subscription's name, or a generated {@code "anonymous-N"}
 * @param filter      a description of its filter
 * @param position    the next position it will read
 * @param lagEvents   records between its position and the head
 * @param lagSeconds  age of the oldest record it has not delivered yet (now minus its commit time), 0 when caught up
 * @param caughtUp    whether it has reached the head at least once
 */
public record SubscriptionStatus(String name, String filter, long position, long lagEvents, double lagSeconds, boolean caughtUp) {
}
