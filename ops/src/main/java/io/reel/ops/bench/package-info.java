/**
 * The benchmark harnesses behind {@code reel bench}: workloads against an embedded store or a server, each writing a
 * {@link io.reel.ops.bench.BenchResult}.
 *
 * <p>Public types: {@link io.reel.ops.bench.Bench} (run by {@code reel bench}), {@link io.reel.ops.bench.BenchResult}
 * (its figures) and {@link io.reel.ops.bench.RestartProbe} (the {@code main} of the child JVM the restart workload
 * starts); everything else is package-private.
 */
package io.reel.ops.bench;
