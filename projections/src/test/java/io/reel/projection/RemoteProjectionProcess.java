package io.reel.projection;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.reel.transport.ClientSettings;
import io.reel.transport.ReelClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The child JVM of {@link RemoteProjectionRestartTest}: runs two projections on a {@link ReelClient} — a
 * {@link Fold} named {@code fold} (it notices a gap, a duplicate or a reordering) and the shipped
 * {@code event-types} — and answers {@code state} on stdin with one line per projection,
 * {@code state NAME PHASE POSITION JSON}, each state and position a consistent pair, then {@code end}.
 *
 * <p>Run: {@code java -cp <test classpath> io.reel.projection.RemoteProjectionProcess PORT CHECKPOINT_DIR}.
 */
public final class RemoteProjectionProcess {
    private RemoteProjectionProcess() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path checkpoints = Path.of(args[1]);
        ReelClient client = ReelClient.connect(ClientSettings.builder().port(port)
            .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200)).build()).block(Duration.ofSeconds(30));
        ProjectionSettings settings = ProjectionSettings.defaults().saveEvery(500).saveInterval(Duration.ofMillis(100))
            .resubscribeBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
        try (Projections projections = Projections.create(client, checkpoints, new SimpleMeterRegistry())) {
            projections.start(Fold.projection("fold"), settings);
            projections.start(EventTypeCounts.projection(), settings);
            System.out.println("ready");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.equals("state")) {
                    StringBuilder answer = new StringBuilder();
                    for (ProjectionStatus status : projections.list()) {
                        ProjectionState state = projections.state(status.name()).block(Duration.ofSeconds(30));
                        answer.append("state ").append(status.name()).append(' ').append(status.phase()).append(' ')
                            .append(state.position()).append(' ').append(new String(state.state(), StandardCharsets.UTF_8)).append('\n');
                    }
                    System.out.print(answer.append("end\n"));
                    System.out.flush();
                }
            }
        } finally {
            client.close();
        }
        System.exit(0);
    }
}
