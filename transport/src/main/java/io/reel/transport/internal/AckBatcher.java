package io.reel.transport.internal;

import io.reel.proto.GroupAck;
import io.reel.store.groups.GroupCodec;
import io.reel.store.groups.Nack;
import io.reel.transport.WireFormat;
import io.rsocket.Payload;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The client's side of one {@code group.join} channel going up: collects the answers (acks and nacks) its
 * consumer gives and sends them as few {@code GroupAck}s as possible, without waiting on a timer.
 *
 * <p>An answer is queued and a drain is scheduled unless one is pending already; the drain sends everything
 * queued by then: all acks in one {@code GroupAck} (up to {@value #MAX_POSITIONS} positions each), the nacks
 * in one per action and reason. So a consumer acking one delivery at a time, idle, sends each at once, and a
 * busy one sends them in batches as large as what piled up during one drain — the group waits for these acks
 * before it hands out more (the in-flight limit), so holding them back would only slow the consumer down.
 *
 * <p>Bounded: the answers queued are at most the deliveries the consumer holds, which the in-flight limit
 * bounds. When the channel ends (cancelled, failed, connection lost) the batcher is closed and later answers
 * are dropped: the group hands those events out again (at-least-once). A cancel by the consumer flushes first,
 * so answers given before cancelling reach the server ahead of the cancel.
 */
public final class AckBatcher {
    static final int MAX_POSITIONS = 10_000;

    private record Answer(long position, Nack action, String reason) {
    }

    private record NackKey(Nack action, String reason) {
    }

    private final WireFormat format;
    private final Sinks.Many<Payload> sink = Sinks.many().unicast().onBackpressureBuffer();
    private final ConcurrentLinkedQueue<Answer> queued = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainPending = new AtomicBoolean();
    private final Scheduler.Worker worker = Schedulers.parallel().createWorker();
    private volatile boolean closed;

    public AckBatcher(WireFormat format) {
        this.format = format;
    }

    /** The {@code GroupAck} payloads, for the channel after its first payload. */
    public Flux<Payload> payloads() {
        return sink.asFlux();
    }

    /** Queues an ack ({@code action} null) or a nack; dropped once the channel has ended. */
    public void answer(long position, Nack action, String reason) {
        if (closed) {
            return;
        }
        queued.add(new Answer(position, action, reason));
        if (drainPending.compareAndSet(false, true)) {
            worker.schedule(this::drain);
        }
    }

    /** Sends what is queued now, on the calling thread. */
    public void flush() {
        drain();
    }

    private synchronized void drain() {
        drainPending.set(false);
        if (closed) {
            queued.clear();
            return;
        }
        List<Long> acks = new ArrayList<>();
        Map<NackKey, List<Long>> nacks = new LinkedHashMap<>();
        for (Answer a = queued.poll(); a != null; a = queued.poll()) {
            if (a.action() == null) {
                acks.add(a.position());
            } else {
                nacks.computeIfAbsent(new NackKey(a.action(), Objects.requireNonNullElse(a.reason(), "")), k -> new ArrayList<>())
                    .add(a.position());
            }
        }
        send(acks, null);
        nacks.forEach((key, positions) -> send(positions, key));
    }

    private void send(List<Long> positions, NackKey nack) {
        for (int from = 0; from < positions.size(); from += MAX_POSITIONS) {
            GroupAck.Builder b = GroupAck.newBuilder().addAllPositions(positions.subList(from, Math.min(positions.size(), from + MAX_POSITIONS)));
            if (nack != null) {
                b.setNack(true).setAction(GroupCodec.toProto(nack.action())).setReason(nack.reason());
            }
            Payload p = MessageCodec.payload(format, b.build());
            if (sink.tryEmitNext(p).isFailure()) {
                p.release();
                return;
            }
        }
    }

    /** The channel ended: drop what is queued and whatever comes later. */
    public void close() {
        closed = true;
        worker.dispose();
        queued.clear();
        sink.tryEmitComplete();
    }
}
