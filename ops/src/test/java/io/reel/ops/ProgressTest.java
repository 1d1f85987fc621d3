package io.reel.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.EventStore;
import io.reel.store.Progress;
import io.reel.store.StoreSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Progress of long work: one summary line off a terminal, a bar on one, nothing with --quiet. */
@Timeout(120)
class ProgressTest {
    private static final StoreSettings SMALL = StoreSettings.builder().segmentSize(256 * 1024).maxEventSize(8 * 1024).build();

    @TempDir
    Path dir;

    private Path storeOfSeveralSegments() {
        Path data = dir.resolve("data");
        try (EventStore store = EventStore.open(data, SMALL)) {
            Stores.append(store, "tick", 6000, 200);
        }
        return data;
    }

    @Test
    void adminVerbsPrintOneSummaryLineOnStandardErrorWhenItIsNotATerminal() {
        Path data = storeOfSeveralSegments();
        Cli.Result verify = Cli.run("verify", "--data", data.toString());
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        assertThat(verify.err().lines().toList()).singleElement().asString()
            .matches("verify: \\d+ segment\\(s\\), [\\d.]+ (KiB|MiB) in [\\d.]+ s \\([\\d.]+ (B|KiB|MiB|GiB)/s\\)");
        Cli.Result backup = Cli.run("backup", "--data", data.toString(), "--to", dir.resolve("b").toString());
        assertThat(backup.err()).startsWith("backup: ");
        Cli.Result restore = Cli.run("restore", "--from", dir.resolve("b").toString(), "--data", dir.resolve("r").toString());
        assertThat(restore.err().lines()).hasSize(2).anySatisfy(l -> assertThat(l).startsWith("restore: "))
            .anySatisfy(l -> assertThat(l).startsWith("verify: "));
        Cli.Result scavenge = Cli.run("scavenge", "--data", dir.resolve("r").toString());
        assertThat(scavenge.err()).contains("scavenge: ");

        Cli.Result quiet = Cli.run("verify", "--data", data.toString(), "--quiet");
        assertThat(quiet.exitCode()).isZero();
        assertThat(quiet.err()).isEmpty();
        assertThat(quiet.out()).isEqualTo(verify.out());
    }

    @Test
    void theIndexReplayOnOpenReportsRecordsUpToTheHead() {
        Path data = storeOfSeveralSegments();
        java.nio.file.Path checkpoint = data.resolve("index").resolve("streams.chk");
        checkpoint.toFile().delete();
        List<Progress.Step> steps = new CopyOnWriteArrayList<>();
        try (EventStore store = EventStore.open(data, SMALL.toBuilder().progress(steps::add).build())) {
            assertThat(store.headPosition()).isEqualTo(6000);
        }
        assertThat(steps).isNotEmpty().allSatisfy(s -> assertThat(s.task()).isEqualTo("open"));
        assertThat(steps.get(steps.size() - 1)).isEqualTo(new Progress.Step("open", "records", 6000, 6000, 0, 0));
    }

    @Test
    void onATerminalABarShowsUnitsRateAndSegments() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressReporter reporter = new ProgressReporter(ProgressReporter.Mode.TERMINAL, new PrintWriter(new StringWriter()),
            new PrintStream(bytes, true, StandardCharsets.UTF_8));
        long mib = 1 << 20;
        for (int i = 0; i <= 4; i++) {
            reporter.update(new Progress.Step("verify", "bytes", i * mib, 4 * mib, i, 4));
        }
        String shown = bytes.toString(StandardCharsets.UTF_8);
        assertThat(shown).contains("verify").contains("100%").contains("4/4 segments").contains("MiB");
    }
}
