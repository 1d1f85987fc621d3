package io.reel.store;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The child process of {@link CrashTest}: appends with FSYNC from many threads and prints a line for every
 * acknowledged event ({@code ack POSITION EVENT_ID STREAM REVISION}) until it is killed.
 */
public final class CrashWriter {
    private CrashWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        String tag = args[2];
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true);
        EventStore store = EventStore.open(dir, StoreSettings.builder().segmentSize(256 * 1024).maxEventSize(8 * 1024).build());
        out.println("ready " + ProcessHandle.current().pid());
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread writer = new Thread(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (long i = 0; ; i++) {
                    String stream = tag + "-" + thread + "-" + (i % 5);
                    int n = 1 + random.nextInt(3);
                    EventData[] events = new EventData[n];
                    for (int k = 0; k < n; k++) {
                        events[k] = EventData.of("Written", new byte[random.nextInt(300)]);
                    }
                    AppendResult r = store.append(stream, ExpectedRevision.ANY, events).block();
                    StringBuilder line = new StringBuilder();
                    for (int k = 0; k < n; k++) {
                        UUID id = events[k].eventId();
                        long revision = r.nextExpectedRevision() - n + 1 + k;
                        line.append("ack ").append(r.firstPosition() + k).append(' ').append(id).append(' ').append(stream).append(' ')
                            .append(revision).append('\n');
                    }
                    synchronized (out) {
                        out.print(line);
                        out.flush();
                    }
                }
            });
            writer.setDaemon(true);
            writer.start();
        }
        Thread.currentThread().join();
    }
}
