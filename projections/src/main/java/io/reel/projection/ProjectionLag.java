package io.reel.projection;

import io.reel.store.Direction;
import io.reel.store.EventFilter;
import io.reel.store.EventSource;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * How far behind the head a projection is, in records and in seconds. The head and the commit time of the oldest
 * record not applied yet are refreshed on Reactor's parallel scheduler, not the runner's thread, so that the lag
 * keeps moving while a handler is slow or blocked; a refresh does not wait: the answers arrive on the source's
 * threads. Any thread.
 */
final class ProjectionLag {
    private static final Logger LOG = LoggerFactory.getLogger(ProjectionLag.class);

    private final String name;
    private final EventSource source;
    private final Clock clock;
    private final Duration interval;
    private final LongSupplier position;
    private final AtomicBoolean refreshing = new AtomicBoolean();
    private final AtomicLong head = new AtomicLong();
    private volatile Disposable refresh;
    private volatile boolean stopped;
    private volatile double pendingSeconds;

    /** The lag of projection {@code name} at {@code position} on {@code source}, refreshed every {@code interval}. */
    ProjectionLag(String name, EventSource source, Clock clock, Duration interval, LongSupplier position) {
        this.name = name;
        this.source = source;
        this.clock = clock;
        this.interval = interval;
        this.position = position;
    }

    /** The head is at least {@code position} (a checkpoint loaded, a caught-up message). */
    void headAtLeast(long head) {
        this.head.accumulateAndGet(head, Math::max);
    }

    /** Records between {@code position} and the head. */
    long events(long position) {
        return Math.max(0, head.get() - position);
    }

    /** How long the oldest record not applied has waited, as of the last refresh; 0 when {@code lagEvents} is. */
    double seconds(long lagEvents) {
        return lagEvents == 0 ? 0 : pendingSeconds;
    }

    /** Refreshes now, then every interval. */
    void start() {
        refresh = Schedulers.parallel().schedulePeriodically(this::refresh, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop() {
        stopped = true;
        Disposable r = refresh;
        if (r != null) {
            r.dispose();
        }
    }

    /** Refreshes the head and, when behind, the commit time of the oldest record not applied yet. */
    private void refresh() {
        if (stopped || !refreshing.compareAndSet(false, true)) {
            return;
        }
        long p = position.getAsLong();
        Duration timeout = interval.multipliedBy(5).compareTo(Duration.ofSeconds(5)) > 0 ? interval.multipliedBy(5) : Duration.ofSeconds(5);
        Mono.defer(source::head)
            .flatMap(h -> {
                head.accumulateAndGet(h, Math::max);
                if (h <= p) {
                    return Mono.just(0.0);
                }
                return source.readAll(p, 1, Direction.FORWARDS, EventFilter.none()).next()
                    .map(oldestPending -> secondsSince(clock.millis() * 1000, oldestPending.timestampMicros()))
                    .defaultIfEmpty(0.0);
            })
            .timeout(timeout)
            .doFinally(signal -> refreshing.set(false))
            .subscribe(seconds -> pendingSeconds = seconds,
                e -> LOG.debug("projection '{}': refreshing its lag failed: {}", name, e.toString()));
    }

    /** Seconds from {@code micros} to {@code nowMicros}, never negative (clocks of different hosts). */
    static double secondsSince(long nowMicros, long micros) {
        return Math.max(0, (nowMicros - micros) / 1e6);
    }
}
