/**
 * The example domain shipped with Reel: task scheduling, as an aggregate
 * ({@link io.reel.examples.tasks.TaskAggregate}) over the events of {@code tasks.proto}.
 */
package io.reel.examples.tasks;
