package io.reel.store.groups;

import static org.assertj.core.api.Assertions.assertThat;

import io.reel.proto.GroupSettings;
import io.reel.store.EventFilter;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** {@link GroupCodec}: every group, filter, status and nack action survives the trip to protobuf and back. */
class GroupCodecPropertyTest {
    @Property(tries = 300)
    void groupOptionsRoundTrip(@ForAll("groups") GroupOptions options) throws Exception {
        GroupSettings wire = GroupCodec.toProto(options);
        GroupOptions back = GroupCodec.fromProto(GroupSettings.parseFrom(wire.toByteArray()));
        assertThat(back.name()).isEqualTo(options.name());
        assertThat(back.fromEndOfLog()).isEqualTo(options.fromEndOfLog());
        if (!options.fromEndOfLog()) {
            assertThat(back.fromPosition()).isEqualTo(options.fromPosition());
        }
        assertThat(back.maxInFlight()).isEqualTo(options.maxInFlight());
        assertThat(back.ackTimeout()).isEqualTo(options.ackTimeout());
        assertThat(back.maxRetries()).isEqualTo(options.maxRetries());
        io.reel.proto.Filter sent = GroupCodec.toProto(options.filter());
        io.reel.proto.Filter received = GroupCodec.toProto(back.filter());
        assertThat(received.getStreamPrefixesList()).isEqualTo(sent.getStreamPrefixesList());
        assertThat(received.getEventTypesList()).as("event types are a set").containsExactlyInAnyOrderElementsOf(sent.getEventTypesList());
        assertThat(received.getStreamRegex()).isEqualTo(sent.getStreamRegex());
        assertThat(received.getTypeRegex()).isEqualTo(sent.getTypeRegex());
        assertThat(GroupCodec.toProto(back).toBuilder().clearFilter().build()).isEqualTo(wire.toBuilder().clearFilter().build());
    }

    @Property(tries = 300)
    void groupStatusRoundTrips(@ForAll("statuses") GroupStatus status) throws Exception {
        byte[] bytes = GroupCodec.toProto(status).toByteArray();
        assertThat(GroupCodec.fromProto(io.reel.proto.GroupStatus.parseFrom(bytes))).isEqualTo(status);
    }

    @Property
    void nackActionsRoundTrip(@ForAll Nack action) {
        assertThat(GroupCodec.fromProto(GroupCodec.toProto(action))).isEqualTo(action);
    }

    @Provide
    Arbitrary<GroupOptions> groups() {
        Arbitrary<String> names = Arbitraries.strings().alpha().numeric().withChars('-', '$', 'é').ofMinLength(1).ofMaxLength(20)
            .filter(s -> !s.isBlank());
        Arbitrary<EventFilter> filters = Combinators.combine(
            Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(6).list().ofMaxSize(3),
            Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8).list().ofMaxSize(3),
            Arbitraries.of("", "order-.*", "[a-z]+-\\d+"),
            Arbitraries.of("", "Order.*", "(Placed|Paid)")).as((prefixes, types, streamRegex, typeRegex) -> EventFilter.builder()
            .streamPrefixes(prefixes).eventTypes(types).streamRegex(streamRegex).typeRegex(typeRegex).build());
        Arbitrary<Long> from = Arbitraries.oneOf(Arbitraries.just(-1L), Arbitraries.just(0L), Arbitraries.longs().between(0, Long.MAX_VALUE));
        return Combinators.combine(names, filters, from, Arbitraries.integers().between(1, Integer.MAX_VALUE),
            Arbitraries.longs().between(1, Integer.MAX_VALUE), Arbitraries.integers().between(0, Integer.MAX_VALUE))
            .as((name, filter, start, maxInFlight, ackMillis, maxRetries) -> {
                GroupOptions o = GroupOptions.named(name).filter(filter).maxInFlight(maxInFlight)
                    .ackTimeout(Duration.ofMillis(ackMillis)).maxRetries(maxRetries);
                return start < 0 ? o.fromEnd() : o.fromPosition(start);
            });
    }

    @Provide
    Arbitrary<GroupStatus> statuses() {
        Arbitrary<GroupStatus.Consumer> consumers = Combinators.combine(Arbitraries.strings().ofMaxLength(10),
            Arbitraries.integers().greaterOrEqual(0), Arbitraries.longs().greaterOrEqual(0), Arbitraries.longs().greaterOrEqual(0))
            .as(GroupStatus.Consumer::new);
        return Combinators.combine(Arbitraries.strings().ofMaxLength(12), Arbitraries.strings().ofMaxLength(20),
            Arbitraries.longs().greaterOrEqual(0), Arbitraries.longs().greaterOrEqual(0),
            Arbitraries.doubles().between(0, 1e6), Arbitraries.integers().greaterOrEqual(0), Arbitraries.longs().greaterOrEqual(0),
            consumers.list().ofMaxSize(4))
            .as((name, filter, checkpoint, lag, lagSeconds, inFlight, parked, list) -> new GroupStatus(name, filter, checkpoint, lag,
                lagSeconds, inFlight, parked, List.copyOf(list)));
    }
}
