package io.reel.store.groups;

import io.reel.proto.ConsumerStatus;
import io.reel.proto.Filter;
import io.reel.proto.GroupSettings;
import io.reel.proto.NackAction;
import io.reel.store.EventFilter;
import io.reel.store.ReelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Groups, filters and nack actions to and from their protobuf form ({@code groups.proto}, {@code reel.proto}):
 * the one conversion that both the group files in {@code <data>/groups/} and the RSocket wire use, so the
 * stored and the sent form of a group can never drift apart.
 *
 * <p>Decoding fails with {@code INVALID_ARGUMENT} naming the field (an empty name, a bad regex, a uint32
 * above {@link Integer#MAX_VALUE}). In {@link GroupSettings} a limit of 0 means the default
 * ({@link GroupOptions#DEFAULT_MAX_IN_FLIGHT}, {@link GroupOptions#DEFAULT_ACK_TIMEOUT},
 * {@link GroupOptions#DEFAULT_MAX_RETRIES}); a {@code from} left unset means the start of the log.
 */
public final class GroupCodec {
    private GroupCodec() {
    }

    public static GroupSettings toProto(GroupOptions o) {
        GroupSettings.Builder b = GroupSettings.newBuilder()
            .setName(o.name())
            .setFilter(toProto(o.filter()))
            .setMaxInFlight(o.maxInFlight())
            .setAckTimeoutMs((int) Math.min(Integer.MAX_VALUE, o.ackTimeout().toMillis()))
            .setMaxRetries(o.maxRetries());
        if (o.fromEndOfLog()) {
            b.setEnd(true);
        } else {
            b.setPosition(o.fromPosition());
        }
        return b.build();
    }

    /** A group's settings from a request: its filter within {@link EventFilter}'s limits. */
    public static GroupOptions fromProto(GroupSettings s) {
        return fromProto(s, fromProto(s.getFilter()));
    }

    /**
     * A group's settings read back from its file or applied from a cluster's log: accepted when they were written, so its
     * filter is rebuilt with {@link EventFilter.Builder#buildStored()} (no new limit may drop a group on upgrade, and
     * every replica decides alike).
     */
    public static GroupOptions fromStored(GroupSettings s) {
        Filter f = s.getFilter();
        return fromProto(s, EventFilter.builder().streamPrefixes(f.getStreamPrefixesList()).eventTypes(f.getEventTypesList())
            .streamRegex(f.getStreamRegex()).typeRegex(f.getTypeRegex()).buildStored());
    }

    private static GroupOptions fromProto(GroupSettings s, EventFilter filter) {
        GroupOptions o = GroupOptions.named(s.getName()).filter(filter);
        o = switch (s.getFromCase()) {
            case END -> o.fromEnd();
            case POSITION -> {
                if (s.getPosition() < 0) {
                    throw ReelException.invalidArgument("position " + Long.toUnsignedString(s.getPosition()) + " is too large; the largest is "
                        + Long.MAX_VALUE);
                }
                yield o.fromPosition(s.getPosition());
            }
            default -> o.fromStart();
        };
        if (s.getMaxInFlight() != 0) {
            o = o.maxInFlight(uint32("max_in_flight", s.getMaxInFlight()));
        }
        if (s.getAckTimeoutMs() != 0) {
            o = o.ackTimeout(Duration.ofMillis(Integer.toUnsignedLong(s.getAckTimeoutMs())));
        }
        if (s.hasMaxRetries()) {
            o = o.maxRetries(uint32("max_retries", s.getMaxRetries()));
        }
        return o;
    }

    private static int uint32(String field, int value) {
        if (value < 0) {
            throw ReelException.invalidArgument(field + " " + Integer.toUnsignedString(value) + " is too large; the largest is "
                + Integer.MAX_VALUE);
        }
        return value;
    }

    public static Filter toProto(EventFilter f) {
        Filter.Builder b = Filter.newBuilder().addAllStreamPrefixes(f.streamPrefixes()).addAllEventTypes(f.eventTypes());
        if (f.streamRegex() != null) {
            b.setStreamRegex(f.streamRegex());
        }
        if (f.typeRegex() != null) {
            b.setTypeRegex(f.typeRegex());
        }
        return b.build();
    }

    public static EventFilter fromProto(Filter f) {
        return EventFilter.builder().streamPrefixes(f.getStreamPrefixesList()).eventTypes(f.getEventTypesList())
            .streamRegex(f.getStreamRegex()).typeRegex(f.getTypeRegex()).build();
    }

    public static io.reel.proto.GroupStatus toProto(GroupStatus s) {
        io.reel.proto.GroupStatus.Builder b = io.reel.proto.GroupStatus.newBuilder().setName(s.name()).setFilter(s.filter())
            .setCheckpoint(s.checkpoint()).setLagEvents(s.lagEvents()).setLagSeconds(s.lagSeconds()).setInFlight(s.inFlight())
            .setParked(s.parked());
        for (GroupStatus.Consumer c : s.consumers()) {
            b.addConsumers(ConsumerStatus.newBuilder().setId(c.id()).setInFlight(c.inFlight()).setDelivered(c.delivered())
                .setAcked(c.acked()));
        }
        return b.build();
    }

    public static GroupStatus fromProto(io.reel.proto.GroupStatus s) {
        List<GroupStatus.Consumer> consumers = new ArrayList<>(s.getConsumersCount());
        for (ConsumerStatus c : s.getConsumersList()) {
            consumers.add(new GroupStatus.Consumer(c.getId(), c.getInFlight(), c.getDelivered(), c.getAcked()));
        }
        return new GroupStatus(s.getName(), s.getFilter(), s.getCheckpoint(), s.getLagEvents(), s.getLagSeconds(), s.getInFlight(),
            s.getParked(), List.copyOf(consumers));
    }

    public static NackAction toProto(Nack action) {
        return switch (action) {
            case RETRY -> NackAction.RETRY;
            case PARK -> NackAction.PARK;
            case SKIP -> NackAction.SKIP;
        };
    }

    /** Fails with {@code INVALID_ARGUMENT} for an action this version does not know. */
    public static Nack fromProto(NackAction action) {
        return switch (action) {
            case RETRY -> Nack.RETRY;
            case PARK -> Nack.PARK;
            case SKIP -> Nack.SKIP;
            case UNRECOGNIZED -> throw ReelException.invalidArgument("action is not RETRY, PARK or SKIP");
        };
    }
}
