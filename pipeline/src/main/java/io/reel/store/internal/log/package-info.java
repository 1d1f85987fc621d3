/**
 * The log on disk, the truth everything else is derived from: segments and their frames, the record codec, the
 * per-segment offset index, recovery of a torn tail, the durable point, the directory lock and atomic files.
 * Internal: only {@code io.reel.store} and its internal packages may use it (held by the ArchUnit test).
 */
package io.reel.store.internal.log;
