package io.reel.examples.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

/** The README's embedded example runs as written, twice on the same directory (the second run continues the stream). */
@Timeout(60)
@ResourceLock(Resources.SYSTEM_OUT)
class EmbeddedAppTest {
    @TempDir
    Path dir;

    @Test
    void theExampleAppendsReadsAndCatchesUp() {
        String first = run(dir.toString());
        assertThat(first).contains("order-42@0 OrderPlaced {\"total\": 12}", "order-42@1 OrderPaid {\"card\": \"visa\"}",
            "$all 1 order-42 OrderPaid", "caught up at position 2");
        String second = run(dir.toString());
        assertThat(second).contains("order-42@3 OrderPaid", "caught up at position 4");
    }

    private static String run(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            EmbeddedApp.main(args);
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
