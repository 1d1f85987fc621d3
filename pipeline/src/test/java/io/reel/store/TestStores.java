package io.reel.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.store.internal.log.LogFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** What the store tests share: small-segment settings, event builders, bounded waits and file helpers. */
final class TestStores {
    /** Every single store operation a test waits for is bounded by this. */
    static final Duration OP_TIMEOUT = Duration.ofSeconds(20);
    /** Small enough that a few hundred events roll segments, so scavenge and the offset indexes have work. */
    static final long SMALL_SEGMENT = 64 * 1024;

    private TestStores() {
    }

    static StoreSettings.Builder small() {
        return StoreSettings.builder().segmentSize(SMALL_SEGMENT).maxEventSize(16 * 1024);
    }

    static EventData event(String type, int dataBytes) {
        byte[] data = new byte[dataBytes];
        UUID id = UUID.randomUUID();
        long seed = id.getLeastSignificantBits();
        for (int i = 0; i < data.length; i++) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            data[i] = (byte) (seed >>> 56);
        }
        return EventData.of(id, type, EventData.OCTET_STREAM, data, null);
    }

    static EventData event(String type) {
        return EventData.of(UUID.randomUUID(), type, EventData.JSON, "{}".getBytes(StandardCharsets.UTF_8), null);
    }

    static <T> T await(Mono<T> mono) {
        return mono.block(OP_TIMEOUT);
    }

    static <T> List<T> await(Flux<T> flux) {
        List<T> list = flux.collectList().block(OP_TIMEOUT);
        return list == null ? List.of() : list;
    }

    /** Appends {@code count} single-event appends to {@code stream}; returns their positions. */
    static List<Long> appendMany(EventStore store, String stream, String type, int count, int dataBytes) {
        List<Long> positions = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            positions.add(await(store.append(stream, ExpectedRevision.ANY, event(type, dataBytes))).firstPosition());
        }
        return positions;
    }

    /** The code of a failure, unwrapping what {@code block()} wraps. */
    static ErrorCode codeOf(Throwable t) {
        Throwable c = t;
        while (c != null && !(c instanceof ReelException)) {
            c = c.getCause();
        }
        assertThat(c).as("a ReelException in %s", t).isNotNull();
        return ((ReelException) c).code();
    }

    static List<Path> files(Path dir, String glob) {
        List<Path> list = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return list;
        }
        try (var s = Files.newDirectoryStream(dir, glob)) {
            s.forEach(list::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        list.sort(Comparator.naturalOrder());
        return list;
    }

    /** The base position of the active (last) segment: records below it sit in sealed segments. */
    static long activeSegmentBase(Path dataDir) {
        List<Path> segments = files(dataDir.resolve("log"), "*" + LogFormat.SEGMENT_SUFFIX);
        return segments.isEmpty() ? 0 : LogFormat.baseOf(segments.get(segments.size() - 1));
    }

    /**
     * Runs a property's body under a deadline, since jqwik knows no JUnit {@code @Timeout}: a stalled try fails
     * with its seed instead of hanging the build.
     */
    static void withDeadline(Duration deadline, Runnable body) {
        ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "property-body");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<?> f = runner.submit(body);
            try {
                f.get(deadline.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                f.cancel(true);
                throw new AssertionError("the try did not finish within " + deadline + " (a stall?)", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new AssertionError(cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        } finally {
            runner.shutdownNow();
        }
    }
}
