/**
 * The {@code reel} command line: serve a store, append, read, tail and inspect it, run the dashboard, and measure it
 * with {@code reel bench} (the harnesses live in {@code io.reel.ops.bench}).
 *
 * <p>Public types: {@link io.reel.ops.ReelCommand} (the {@code main} class of the jar) and
 * {@link io.reel.ops.AppendCommand} (the {@code reel append} subcommand); everything else is package-private.
 */
package io.reel.ops;
