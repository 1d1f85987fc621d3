package io.reel.store;

/**
 * Told how far long work has come: the admin operations of {@link StoreAdmin} (verify, backup, restore), a
 * scavenge, and the replay of the stream index when a store opens ({@link StoreSettings.Builder#progress}).
 * Called on the thread doing the work (the replay on open: a store reader thread, a few times a second), after
 * each segment and once more at the end with {@code done == total}; it must return quickly and not throw.
 */
@FunctionalInterface
public interface Progress {
    /** Tells nothing. */
    Progress NONE = step -> { };

    void update(Step step);

    /**
     * @param task          what is running: {@code verify}, {@code backup}, {@code restore}, {@code scavenge}, {@code open}
     * @param unit          what {@code done} and {@code total} count: {@code bytes}, or {@code records} for the index replay on open
     * @param done          units done so far
     * @param total         units in all (known when the work starts)
     * @param segmentsDone  segments done so far (0 when the task does not go by segment)
     * @param segmentsTotal segments in all (0 when the task does not go by segment)
     */
    record Step(String task, String unit, long done, long total, int segmentsDone, int segmentsTotal) {
        public boolean finished() {
            return done >= total;
        }
    }
}
