package io.reel.transport.internal;

import io.reel.proto.GroupAck;
import io.reel.proto.GroupJoin;
import io.reel.store.ReelException;
import io.reel.store.groups.Delivery;
import io.reel.store.groups.GroupCodec;
import io.reel.store.groups.Nack;
import io.reel.transport.WireFormat;
import io.rsocket.Payload;
import java.util.LinkedHashMap;
import java.util.Map;
import reactor.core.publisher.Flux;

/**
 * One remote consumer of a group: the server side of a {@code group.join} request-channel.
 *
 * <pre>
 * client → server   GroupJoin{group, max_in_flight, consumer}    first payload
 *                   GroupAck{positions, nack, action, reason}…   any number, each settling one or many positions
 * server → client   GroupDelivery{record, retry_count}…          while the client's request(n) and the in-flight limit allow
 * </pre>
 *
 * <p>The client's {@code request(n)} is passed to the group as the consumer's demand, so a delivery goes out
 * only when the client asked for it <em>and</em> holds fewer than its in-flight limit unacknowledged. The channel
 * ends, and the consumer leaves the group (its in-flight events go to the other consumers), when the client
 * cancels, when its side completes (no acknowledgement could come any more), when the connection dies, or on a
 * malformed {@code GroupAck} ({@code INVALID_ARGUMENT}). An acknowledgement of a position this consumer does
 * not hold (settled already, or redelivered elsewhere after its ack timeout) is ignored: the group counts only
 * the holder's first answer.
 *
 * <p>Deliveries are encoded on the group's thread; acknowledgements are decoded on the connection's event loop
 * and handed to the group's thread. The deliveries a consumer holds are remembered until answered, at most
 * {@code max(4096, 4 × its in-flight limit)} of them (its {@code max_in_flight}, or the group's when that is 0 or
 * larger): beyond that the oldest (long timed out, so redelivered anyway) are forgotten, and a late answer to one is ignored like any other stale one.
 */
final class GroupJoinChannel {
    private static final int MIN_HELD = 4096;

    private final ServerContext server;
    private final WireFormat format;
    private final Map<Long, Delivery> held;

    private final String group;
    private final int requested;
    /** How many deliveries are held for acks: four times the consumer's limit, followed when the group's limit changes. */
    private int cap;

    private GroupJoinChannel(ServerContext server, WireFormat format, String group, int requested, int maxInFlight) {
        this.server = server;
        this.format = format;
        this.group = group;
        this.requested = requested;
        this.cap = Math.max(MIN_HELD, 4 * maxInFlight);
        this.held = new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Delivery> eldest) {
                return size() > cap;
            }
        };
    }

    /**
     * The deliveries of the consumer that {@code join} describes, acknowledged by the {@code GroupAck}s in
     * {@code acks} (the client's payloads after the first). Fails with {@code INVALID_ARGUMENT} at once on a bad
     * {@code GroupJoin}; a group that does not exist ends the returned {@code Flux} with {@code NOT_FOUND}.
     */
    static Flux<Payload> serve(ServerContext server, WireFormat format, GroupJoin join, Flux<Payload> acks) {
        if (join.getGroup().isEmpty()) {
            throw WireErrors.invalid("group.join needs the group's name in GroupJoin.group; group.list shows the groups");
        }
        if (join.getMaxInFlight() < 0) {
            throw WireErrors.invalid("max_in_flight " + Integer.toUnsignedString(join.getMaxInFlight()) + " is too large; send 0 for the "
                + "group's limit");
        }
        int limit;
        try {
            limit = server.store().groups().inFlightLimit(join.getGroup(), join.getMaxInFlight());
        } catch (io.reel.store.ReelException unknown) {
            limit = join.getMaxInFlight();   // the join itself ends with NOT_FOUND
        }
        GroupJoinChannel channel = new GroupJoinChannel(server, format, join.getGroup(), join.getMaxInFlight(), limit);
        Flux<Payload> deliveries = server.store().groups().join(join.getGroup(), join.getMaxInFlight(), join.getConsumer())
            .map(channel::send);
        return deliveries.takeUntilOther(acks.doOnNext(channel::settle).then());
    }

    private Payload send(Delivery delivery) {
        long position = delivery.event().position();
        int limit;
        try {
            // group.update may have raised the group's limit since the join: held by the old cap, the oldest deliveries
            // were dropped and their acks ignored (they timed out, were redelivered, could end parked though acked)
            limit = server.store().groups().inFlightLimit(group, requested);
        } catch (io.reel.store.ReelException gone) {
            limit = 0;
        }
        synchronized (held) {
            cap = Math.max(cap, Math.max(MIN_HELD, 4 * limit));
            held.remove(position);
            held.put(position, delivery);
        }
        return MessageCodec.delivery(format, delivery.event(), delivery.retryCount());
    }

    private void settle(Payload payload) {
        try {
            GroupAck ack;
            try {
                ack = MessageCodec.decode(format, payload.sliceData(), GroupAck.getDefaultInstance(), "a GroupAck on group.join");
            } finally {
                payload.release();
            }
            if (ack.getPositionsCount() == 0) {
                throw WireErrors.invalid("a GroupAck needs at least one position in positions");
            }
            Nack action = ack.getNack() ? GroupCodec.fromProto(ack.getAction()) : null;
            String reason = ack.getReason().isEmpty() ? null : ack.getReason();
            for (int i = 0; i < ack.getPositionsCount(); i++) {
                Delivery d;
                synchronized (held) {
                    d = held.remove(ack.getPositions(i));
                }
                if (d == null) {
                    continue;
                }
                if (action == null) {
                    d.ack();
                } else {
                    d.nack(action, reason);
                }
            }
        } catch (ReelException e) {
            server.metrics().rejected(e.code());
            throw e;
        }
    }
}
