package io.reel.projection;

import io.reel.store.CheckpointStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a projection's state and checkpoint together, as one pair, in its {@link CheckpointStore}: in the
 * foreground (returns once on disk) or in the background (the state is encoded on the runner's thread, a consistent
 * pair with the position, and written on {@code saver}, one save at a time). Counts the events applied since the
 * last save, which says when the next one is due. Runner's thread only, except the write itself.
 *
 * @param <S> the state type
 */
final class ProjectionCheckpointWriter<S> {
    private static final Logger LOG = LoggerFactory.getLogger(ProjectionCheckpointWriter.class);

    /** Told, on the runner's thread, how a background save ended: {@code error} null when it is on disk. */
    interface Listener {
        void written(long position, Throwable error);
    }

    private final String name;
    private final CheckpointStore checkpoints;
    private final Function<? super S, byte[]> encoder;
    private final Executor saver;
    private final Executor runner;
    private final Listener listener;

    private long savedPosition;
    private CompletableFuture<Void> saving;
    private long savingPosition;
    private long eventsSinceSave;

    /**
     * A writer of projection {@code name}'s pairs, its states encoded by {@code encoder} (the projection's codec), that
     * writes in the background on {@code saver} and reports the outcome to {@code listener} on {@code runner} (the
     * runner's thread).
     */
    ProjectionCheckpointWriter(String name, CheckpointStore checkpoints, Function<? super S, byte[]> encoder, Executor saver,
                               Executor runner, Listener listener) {
        this.name = name;
        this.checkpoints = checkpoints;
        this.encoder = encoder;
        this.saver = saver;
        this.runner = runner;
        this.listener = listener;
    }

    /** The pair on disk is at {@code position} (loaded, or reset by a rebuild); nothing applied since. */
    void savedAt(long position) {
        savedPosition = position;
        eventsSinceSave = 0;
    }

    /** One more event applied (or skipped) since the last save. */
    void applied() {
        eventsSinceSave++;
    }

    long eventsSinceSave() {
        return eventsSinceSave;
    }

    /**
     * Saves {@code state} at {@code position} when the position moved since the last save, and returns once they
     * are on disk; throws on failure. Waits for a background save first, so saves land in position order.
     */
    void save(long position, S state) {
        awaitSaving();
        if (position == savedPosition) {
            return;
        }
        checkpoints.save(name, position, encoder.apply(state));
        savedPosition = position;
        eventsSinceSave = 0;
    }

    /**
     * Encodes {@code state} here and writes it with {@code position} on the saver, unless a save is in flight or the
     * position did not move. Throws (nothing is written) when the state does not encode.
     */
    void saveInBackground(long position, S state) {
        if (saving != null || position == savedPosition) {
            return;
        }
        byte[] encoded = encoder.apply(state);
        eventsSinceSave = 0;
        CompletableFuture<Void> write = CompletableFuture.runAsync(() -> checkpoints.save(name, position, encoded), saver);
        saving = write;
        savingPosition = position;
        write.whenComplete((ignored, error) -> {
            try {
                runner.execute(() -> written(write, position, error));
            } catch (RejectedExecutionException closedRunner) {
                // closed or crashed: close() waited for this write, crash() does not care
            }
        });
    }

    private void written(CompletableFuture<Void> write, long position, Throwable error) {
        if (saving == write) {
            saving = null;
        }
        if (error == null) {
            savedPosition = Math.max(savedPosition, position);
        }
        listener.written(position, error);
    }

    /** Waits for the background save in flight, if any (its failure is reported to the listener). */
    void awaitSaving() {
        CompletableFuture<Void> write = saving;
        if (write != null) {
            saving = null;
            try {
                write.join();
                savedPosition = Math.max(savedPosition, savingPosition);
            } catch (CompletionException | java.util.concurrent.CancellationException e) {
                LOG.debug("projection '{}': a background save failed: {}", name, e.toString());
            }
        }
    }

    /** The background write in flight, or null: a crash waits for it without touching the runner's state. */
    CompletableFuture<Void> inFlight() {
        return saving;
    }
}
