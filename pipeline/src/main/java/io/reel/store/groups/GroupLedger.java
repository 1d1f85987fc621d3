package io.reel.store.groups;

import io.reel.store.RecordedEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * A consumer group's bookkeeping, as a pure state machine over plain values: which events wait in which stream's
 * queue, which are in flight with which consumer until when, which were acknowledged, retried or parked, and where
 * the checkpoint is. No I/O, no threads, no clock: the caller passes {@code now}; {@link GroupDispatcher} is the
 * plumbing (the loop thread, the upstream subscription, timers, delivery and persistence) that acts on its answers.
 *
 * <p>Ordering: at most one event of a stream is in flight at a time; an event that comes back (nack, timeout, its
 * consumer left) goes to the front of its stream's queue. A stream stays with the consumer that handled it last
 * while it has work (affinity); otherwise consumers take turns.
 *
 * @param <C> a consumer, opaque to the ledger (compared by identity of {@code equals})
 */
final class GroupLedger<C> {
    /** An event waiting or in flight: how often it was retried and whether it is a parked event being replayed. */
    private static final class Pending {
        final RecordedEvent event;
        int retries;
        final boolean replayed;

        Pending(RecordedEvent event, boolean replayed) {
            this.event = event;
            this.replayed = replayed;
        }
    }

    private record InFlight<C>(Pending pending, C consumer, long deadlineNanos) {
    }

    /** An event handed to a consumer: deliver it, it is in flight until settled or its deadline passes. */
    record Assignment<C>(RecordedEvent event, int retries, C consumer) {
    }

    /** What settling (or expiring) an in-flight event did. */
    enum Outcome {
        /** Acknowledged or skipped: done. */
        DONE,
        /** Parked at the consumer's request. */
        PARKED,
        /** Back at the front of its stream's queue, for another try. */
        RETRIED,
        /** Retried more than the group allows: parked. */
        PARKED_AFTER_RETRIES
    }

    /** An in-flight event whose deadline passed, the consumer that held it, and what became of it. */
    record Expired<C>(long position, C consumer, Outcome outcome) {
    }

    private long readPosition;
    private final TreeMap<Long, Long> outstanding = new TreeMap<>();
    private final Map<String, ArrayDeque<Pending>> queues = new HashMap<>();
    private final ArrayDeque<String> ready = new ArrayDeque<>();
    private final Set<String> busy = new HashSet<>();
    private final Map<Long, InFlight<C>> inFlight = new HashMap<>();
    private final Map<String, C> affinity = new HashMap<>();
    private final List<C> consumers = new ArrayList<>();
    private final TreeSet<Long> parked = new TreeSet<>();
    private final Set<Long> replaying = new HashSet<>();
    private int buffered;
    private boolean dirty;
    private int roundRobin;

    /** A ledger resuming from {@code checkpoint} with the events at {@code parkedPositions} parked. */
    GroupLedger(long checkpoint, Collection<Long> parkedPositions) {
        this.readPosition = checkpoint;
        this.parked.addAll(parkedPositions);
    }

    // ------------------------------------------------------------------------------------------ consumers

    void join(C consumer) {
        consumers.add(consumer);
    }

    /** A consumer leaves: its in-flight events go back to the front of their streams. False if it was not here. */
    boolean leave(C consumer) {
        if (!consumers.remove(consumer)) {
            return false;
        }
        List<InFlight<C>> held = new ArrayList<>();
        for (InFlight<C> f : inFlight.values()) {
            if (f.consumer.equals(consumer)) {
                held.add(f);
            }
        }
        for (InFlight<C> f : held) {
            inFlight.remove(f.pending.event.position());
            requeueFront(f.pending);
        }
        return true;
    }

    /** The consumers, in the order they joined. */
    List<C> consumers() {
        return consumers;
    }

    /** Everyone leaves at once (the group closes); nothing is requeued. */
    void clearConsumers() {
        consumers.clear();
    }

    // --------------------------------------------------------------------------------------- settlement

    /** The consumer holding the event at {@code position} in flight, or null. */
    C holder(long position) {
        InFlight<C> f = inFlight.get(position);
        return f == null ? null : f.consumer;
    }

    /**
     * Settles the in-flight event at {@code position}: an ack ({@code action} null) or a nack. A retry beyond
     * {@code maxRetries} parks it. Null when nothing is in flight there.
     */
    Outcome settle(long position, Nack action, int maxRetries) {
        InFlight<C> f = inFlight.remove(position);
        if (f == null) {
            return null;
        }
        if (action == null || action == Nack.SKIP) {
            done(f.pending);
            release(f.pending.event.stream());
            return Outcome.DONE;
        }
        if (action == Nack.PARK) {
            park(f.pending);
            release(f.pending.event.stream());
            return Outcome.PARKED;
        }
        return retry(f.pending, maxRetries);
    }

    /** Every in-flight event whose deadline is before {@code nowNanos} comes back as a retry. */
    List<Expired<C>> expire(long nowNanos, int maxRetries) {
        List<InFlight<C>> expired = new ArrayList<>();
        for (InFlight<C> f : inFlight.values()) {
            if (f.deadlineNanos - nowNanos < 0) {
                expired.add(f);
            }
        }
        List<Expired<C>> out = new ArrayList<>(expired.size());
        for (InFlight<C> f : expired) {
            long position = f.pending.event.position();
            inFlight.remove(position);
            out.add(new Expired<>(position, f.consumer, retry(f.pending, maxRetries)));
        }
        return out;
    }

    private void done(Pending p) {
        long position = p.event.position();
        if (p.replayed) {
            parked.remove(position);
            replaying.remove(position);
        } else {
            outstanding.remove(position);
        }
        dirty = true;
    }

    private Outcome retry(Pending p, int maxRetries) {
        p.retries++;
        if (p.retries > maxRetries) {
            park(p);
            release(p.event.stream());
            return Outcome.PARKED_AFTER_RETRIES;
        }
        requeueFront(p);
        return Outcome.RETRIED;
    }

    private void park(Pending p) {
        long position = p.event.position();
        parked.add(position);
        replaying.remove(position);
        if (!p.replayed) {
            outstanding.remove(position);
        }
        dirty = true;
    }

    /** Puts an event back at the front of its stream's queue (it was in flight, so its stream was busy). */
    private void requeueFront(Pending p) {
        String stream = p.event.stream();
        queues.computeIfAbsent(stream, s -> new ArrayDeque<>()).addFirst(p);
        buffered++;
        busy.remove(stream);
        ready.addFirst(stream);
    }

    /** The stream's in-flight event is done: the next one of the stream, if any, may go. */
    private void release(String stream) {
        busy.remove(stream);
        ArrayDeque<Pending> q = queues.get(stream);
        if (q != null && !q.isEmpty()) {
            ready.add(stream);
        } else {
            queues.remove(stream);
            affinity.remove(stream);
        }
    }

    // ------------------------------------------------------------------------------------------ dispatch

    /**
     * The next event to hand out, to a consumer that {@code hasRoom}, in flight until {@code deadlineNanos}; null
     * when no stream has an event to go or no consumer has room. Call again after acting on the answer.
     */
    Assignment<C> next(long deadlineNanos, Predicate<? super C> hasRoom) {
        while (!ready.isEmpty()) {
            String stream = ready.peek();
            C consumer = choose(stream, hasRoom);
            if (consumer == null) {
                return null;
            }
            ready.poll();
            ArrayDeque<Pending> q = queues.get(stream);
            if (q == null || q.isEmpty() || busy.contains(stream)) {
                continue;
            }
            Pending p = q.poll();
            buffered--;
            busy.add(stream);
            affinity.put(stream, consumer);
            inFlight.put(p.event.position(), new InFlight<>(p, consumer, deadlineNanos));
            return new Assignment<>(p.event, p.retries, consumer);
        }
        return null;
    }

    private C choose(String stream, Predicate<? super C> hasRoom) {
        C preferred = affinity.get(stream);
        if (preferred != null) {
            for (C c : consumers) {
                if (c.equals(preferred) && hasRoom.test(c)) {
                    return c;
                }
            }
        }
        int n = consumers.size();
        for (int i = 0; i < n; i++) {
            C c = consumers.get((roundRobin + i) % n);
            if (hasRoom.test(c)) {
                roundRobin = (roundRobin + i + 1) % n;
                return c;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------ upstream

    /** An event read from the log. */
    void received(RecordedEvent event) {
        readPosition = event.position() + 1;
        if (inFlight.containsKey(event.position())) {
            return; // read again after a refilter while still in flight: it is already handed out and outstanding
        }
        outstanding.put(event.position(), event.timestampMicros());
        enqueue(new Pending(event, false));
        dirty = true;
    }

    /** The log was read up to {@code nextPosition} with nothing for this group in between. */
    void advanced(long nextPosition) {
        readPosition = Math.max(readPosition, nextPosition);
        dirty = true;
    }

    private void enqueue(Pending p) {
        String stream = p.event.stream();
        ArrayDeque<Pending> q = queues.computeIfAbsent(stream, s -> new ArrayDeque<>());
        boolean wasEmpty = q.isEmpty();
        q.add(p);
        buffered++;
        if (wasEmpty && !busy.contains(stream)) {
            ready.add(stream);
        }
    }

    /** The events read but not yet handed out. */
    int buffered() {
        return buffered;
    }

    /** Where reading the log goes on from. */
    long readPosition() {
        return readPosition;
    }

    /**
     * The filter changed: the waiting events are dropped and reading restarts from the checkpoint as it was before
     * they were dropped, so they are read again under the new filter (events in flight stay in flight and are not
     * handed out again when read again).
     */
    void refilter() {
        long from = checkpoint();
        for (ArrayDeque<Pending> q : queues.values()) {
            for (Pending p : q) {
                if (!p.replayed) {
                    outstanding.remove(p.event.position());
                }
            }
        }
        queues.clear();
        ready.clear();
        buffered = 0;
        replaying.clear();
        readPosition = from;
    }

    // ------------------------------------------------------------------------------------------- parked

    /** The parked positions, oldest first. */
    List<Long> parked() {
        return List.copyOf(parked);
    }

    int parkedCount() {
        return parked.size();
    }

    /** Marks every parked event not already being replayed as being replayed; answers their positions. */
    List<Long> startReplay() {
        List<Long> toReplay = new ArrayList<>();
        for (Long p : parked) {
            if (replaying.add(p)) {
                toReplay.add(p);
            }
        }
        return toReplay;
    }

    /** A parked event being replayed, read back from the log: it goes into its stream's queue. */
    void replayed(RecordedEvent event) {
        enqueue(new Pending(event, true));
    }

    /** A parked position with no event left in the log (scavenged): it is forgotten. */
    void forgetParked(long position) {
        parked.remove(position);
        replaying.remove(position);
        dirty = true;
    }

    // ------------------------------------------------------------------------------------------- state

    /** The lowest position not yet done (acknowledged, skipped or parked). */
    long checkpoint() {
        return outstanding.isEmpty() ? readPosition : Math.min(outstanding.firstKey(), readPosition);
    }

    /** How old the oldest outstanding event is at {@code nowMicros}, in seconds; 0 when none is. */
    double lagSeconds(long nowMicros) {
        return outstanding.isEmpty() ? 0 : Math.max(0, (nowMicros - outstanding.firstEntry().getValue()) / 1e6);
    }

    int inFlightCount() {
        return inFlight.size();
    }

    /** Whether the checkpoint or the parked positions changed since {@link #saved()}. */
    boolean dirty() {
        return dirty;
    }

    void saved() {
        dirty = false;
    }
}
