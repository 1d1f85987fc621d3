package io.reel.ops;

import io.reel.store.Progress;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows how long work goes ({@code verify}, {@code backup}, {@code restore}, {@code scavenge}, the index
 * replay when the server opens): on a terminal a progress bar (me.tongfei:progressbar) with units done,
 * rate, time left and segments; otherwise one summary line when the work ends; with {@code --quiet} nothing.
 * Everything goes to standard error, so standard output stays the report a script reads.
 */
final class ProgressReporter implements Progress {
    enum Mode { TERMINAL, SUMMARY, QUIET }

    private final Mode mode;
    private final PrintWriter summary;
    private final PrintStream terminal;
    private ProgressBar bar;
    private String task;
    private long startedNanos;
    private boolean finished;

    ProgressReporter(Mode mode, PrintWriter summary, PrintStream terminal) {
        this.mode = mode;
        this.summary = summary;
        this.terminal = terminal;
    }

    /** TERMINAL when standard error goes to a terminal, SUMMARY otherwise, QUIET with {@code --quiet}. */
    static ProgressReporter forCommand(boolean quiet, PrintWriter err) {
        Mode mode = quiet ? Mode.QUIET : standardErrorIsTerminal() ? Mode.TERMINAL : Mode.SUMMARY;
        return new ProgressReporter(mode, err, System.err);
    }

    /**
     * Whether standard error is a terminal. Java 17's {@code System.console()} tells of standard input and output
     * only, so {@code reel backup ... 2>backup.log} from a shell wrote the bar's frames into the log; on Linux the
     * descriptor's link names the device. Elsewhere, the console it is.
     */
    private static boolean standardErrorIsTerminal() {
        java.nio.file.Path fd = java.nio.file.Path.of("/proc/self/fd/2");
        try {
            String target = java.nio.file.Files.readSymbolicLink(fd).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (java.io.IOException | UnsupportedOperationException | SecurityException e) {
            return System.console() != null;
        }
    }

    @Override
    public synchronized void update(Step step) {
        if (mode == Mode.QUIET) {
            return;
        }
        if (!step.task().equals(task)) {
            if (bar != null) {
                bar.close();
                bar = null;
            }
            task = step.task();
            startedNanos = 0;
            finished = false;
        }
        if (finished) {
            return;
        }
        if (startedNanos == 0) {
            startedNanos = System.nanoTime();
        }
        if (mode == Mode.TERMINAL) {
            if (bar == null) {
                boolean bytes = step.unit().equals("bytes");
                bar = new ProgressBarBuilder().setTaskName(step.task()).setInitialMax(Math.max(1, step.total()))
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).showSpeed()
                    .setUnit(bytes ? " MiB" : " records", bytes ? 1 << 20 : 1).setConsumer(new ConsoleProgressBarConsumer(terminal))
                    .build();
            }
            bar.stepTo(step.done());
            if (step.segmentsTotal() > 0) {
                bar.setExtraMessage(" " + step.segmentsDone() + "/" + step.segmentsTotal() + " segments");
            }
        }
        if (step.finished()) {
            finished = true;
            if (bar != null) {
                bar.close();
                bar = null;
            }
            if (mode == Mode.SUMMARY) {
                summary.println(summaryLine(step, Duration.ofNanos(System.nanoTime() - startedNanos)));
                summary.flush();
            }
        }
    }

    /** {@code verify: 12 segments, 11.8 MiB in 0.4 s (29.5 MiB/s)}; {@code open: replayed 120000 records of the stream index in ...}. */
    static String summaryLine(Step step, Duration took) {
        double seconds = Math.max(took.toNanos() / 1e9, 1e-3);
        String what = step.unit().equals("bytes")
            ? (step.segmentsTotal() > 0 ? step.segmentsTotal() + " segment(s), " : "") + Sizes.human(step.total())
            : "replayed " + step.total() + " " + step.unit() + " of the stream index";
        String rate = step.unit().equals("bytes") ? Sizes.human((long) (step.total() / seconds)) + "/s"
            : String.format(Locale.ROOT, "%.0f %s/s", step.total() / seconds, step.unit());
        return String.format(Locale.ROOT, "%s: %s in %.1f s (%s)", step.task(), what, seconds, rate);
    }
}
