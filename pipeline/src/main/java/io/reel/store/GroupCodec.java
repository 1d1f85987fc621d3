package io.reel.store;

import io.reel.proto.Filter;
import io.reel.proto.GroupSettings;
import java.time.Duration;

/** Group options and filters to and from their protobuf form (storage of groups, and the wire). */
final class GroupCodec {
    private GroupCodec() {
    }

    static GroupSettings toProto(GroupOptions o) {
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

    static GroupOptions fromProto(GroupSettings s) {
        GroupOptions o = GroupOptions.named(s.getName()).filter(fromProto(s.getFilter()));
        o = switch (s.getFromCase()) {
            case END -> o.fromEnd();
            case POSITION -> o.fromPosition(s.getPosition());
            default -> o.fromStart();
        };
        if (s.getMaxInFlight() > 0) {
            o = o.maxInFlight(s.getMaxInFlight());
        }
        if (s.getAckTimeoutMs() > 0) {
            o = o.ackTimeout(Duration.ofMillis(s.getAckTimeoutMs()));
        }
        if (s.getMaxRetries() > 0) {
            o = o.maxRetries(s.getMaxRetries());
        }
        return o;
    }

    static Filter toProto(EventFilter f) {
        Filter.Builder b = Filter.newBuilder().addAllStreamPrefixes(f.streamPrefixes()).addAllEventTypes(f.eventTypes());
        if (f.streamRegex() != null) {
            b.setStreamRegex(f.streamRegex());
        }
        if (f.typeRegex() != null) {
            b.setTypeRegex(f.typeRegex());
        }
        return b.build();
    }

    static EventFilter fromProto(Filter f) {
        return EventFilter.builder().streamPrefixes(f.getStreamPrefixesList()).eventTypes(f.getEventTypesList())
            .streamRegex(f.getStreamRegex()).typeRegex(f.getTypeRegex()).build();
    }
}
