package io.reel.projection;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.reel.store.SubscriptionMessage;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;
import reactor.core.publisher.Operators;
import reactor.util.concurrent.Queues;

/**
 * One subscription of a {@link ProjectionRunner} to its source: hands messages to the runner's thread through a
 * queue bounded by the window (it never holds more than it requested). Late signals of a replaced feed are ignored.
 * The runner drains it on its own thread and requests more as it applies.
 */
final class ProjectionFeed implements CoreSubscriber<SubscriptionMessage>, Runnable {
    private final String name;
    private final int window;
    private final Executor runner;
    private final Predicate<ProjectionFeed> drain;
    private final Consumer<Throwable> internalError;
    final Queue<SubscriptionMessage> queue;
    private final AtomicInteger wip = new AtomicInteger();
    private volatile Subscription upstream;
    private volatile boolean cancelled;
    volatile boolean done;
    volatile Throwable failure;

    /* The runner's thread only. */
    int consumed;
    boolean receivedAny;
    boolean caughtUp;

    /**
     * A feed of projection {@code name} requesting {@code window} messages at first, drained on {@code runner} by
     * {@code drain} (false: it yields with messages left, run again); an exception there goes to {@code internalError}.
     */
    ProjectionFeed(String name, int window, Executor runner, Predicate<ProjectionFeed> drain, Consumer<Throwable> internalError) {
        this.name = name;
        this.window = window;
        this.runner = runner;
        this.drain = drain;
        this.internalError = internalError;
        this.queue = Queues.<SubscriptionMessage>get(window).get();
    }

    @Override
    public void onSubscribe(Subscription s) {
        if (Operators.validate(upstream, s)) {
            upstream = s;
            if (cancelled) {
                s.cancel();
            } else {
                s.request(window);
            }
        }
    }

    @Override
    public void onNext(SubscriptionMessage message) {
        if (done || cancelled) {
            return;
        }
        if (!queue.offer(message)) {
            cancelUpstream();
            onError(new ReelException(ErrorCode.INTERNAL, "the source of projection '" + name
                + "' sent more messages than requested"));
            return;
        }
        schedule();
    }

    @Override
    public void onError(Throwable t) {
        if (done) {
            return;
        }
        failure = t;
        done = true;
        schedule();
    }

    @Override
    public void onComplete() {
        if (done) {
            return;
        }
        done = true;
        schedule();
    }

    void schedule() {
        if (wip.getAndIncrement() == 0) {
            try {
                runner.execute(this);
            } catch (RejectedExecutionException closedRunner) {
                cancelUpstream();
            }
        }
    }

    @Override
    public void run() {
        int missed = 1;
        while (true) {
            boolean finished;
            try {
                finished = drain.test(this);
            } catch (Throwable t) {
                Exceptions.throwIfJvmFatal(t);
                internalError.accept(t);
                finished = true;
            }
            if (!finished) {
                try {
                    runner.execute(this);
                } catch (RejectedExecutionException closedRunner) {
                    cancelUpstream();
                }
                return;
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    void request(long n) {
        Subscription s = upstream;
        if (s != null) {
            s.request(n);
        }
    }

    /** On the runner's thread: stop and drop what was delivered. */
    void cancel() {
        cancelUpstream();
        queue.clear();
    }

    void cancelUpstream() {
        cancelled = true;
        Subscription s = upstream;
        if (s != null) {
            s.cancel();
        }
    }
}
