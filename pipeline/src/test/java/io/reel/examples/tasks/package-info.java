/**
 * The example domain (kept in the test tree, so not in the library jar): task scheduling, as an aggregate
 * ({@link io.reel.examples.tasks.TaskAggregate}) over the events of {@code tasks.proto}.
 */
package io.reel.examples.tasks;
