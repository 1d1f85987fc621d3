/**
 * Projection throughput measurements, for {@code reel bench}.
 */
package io.reel.projection.bench;
