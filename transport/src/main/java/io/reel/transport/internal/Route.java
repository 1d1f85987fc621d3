package io.reel.transport.internal;

import java.util.HashMap;
import java.util.Map;

/**
 * The routes of the RSocket wire contract: the name a client puts in its routing metadata, how the route is
 * called and which role it needs.
 */
public enum Route {
    APPEND("append", Interaction.REQUEST_RESPONSE, Role.WRITE),
    APPEND_BATCH("append.batch", Interaction.REQUEST_RESPONSE, Role.WRITE),
    READ_STREAM("read.stream", Interaction.REQUEST_STREAM, Role.READ),
    READ_ALL("read.all", Interaction.REQUEST_STREAM, Role.READ),
    SUBSCRIBE("subscribe", Interaction.REQUEST_STREAM, Role.READ),
    CHECKPOINT("checkpoint", Interaction.FIRE_AND_FORGET, Role.READ),
    STREAM_METADATA_GET("stream.metadata.get", Interaction.REQUEST_RESPONSE, Role.READ),
    STREAM_METADATA_SET("stream.metadata.set", Interaction.REQUEST_RESPONSE, Role.ADMIN),
    STREAM_DELETE("stream.delete", Interaction.REQUEST_RESPONSE, Role.ADMIN),
    INFO("info", Interaction.REQUEST_RESPONSE, Role.READ),
    STREAMS_LIST("streams.list", Interaction.REQUEST_STREAM, Role.READ),
    CLUSTER_INFO("cluster.info", Interaction.REQUEST_RESPONSE, Role.READ),
    PROJECTION_LIST("projection.list", Interaction.REQUEST_RESPONSE, Role.READ),
    PROJECTION_STATE("projection.state", Interaction.REQUEST_RESPONSE, Role.READ),
    GROUP_CREATE("group.create", Interaction.REQUEST_RESPONSE, Role.ADMIN),
    GROUP_UPDATE("group.update", Interaction.REQUEST_RESPONSE, Role.ADMIN),
    GROUP_DELETE("group.delete", Interaction.REQUEST_RESPONSE, Role.ADMIN),
    GROUP_LIST("group.list", Interaction.REQUEST_RESPONSE, Role.READ),
    GROUP_PARKED("group.parked", Interaction.REQUEST_STREAM, Role.READ),
    GROUP_REPLAY_PARKED("group.replay-parked", Interaction.REQUEST_RESPONSE, Role.WRITE),
    GROUP_JOIN("group.join", Interaction.REQUEST_CHANNEL, Role.WRITE);

    /** The RSocket interaction models a route can be called with. */
    enum Interaction {
        REQUEST_RESPONSE("request-response"),
        REQUEST_STREAM("request-stream"),
        FIRE_AND_FORGET("fire-and-forget"),
        REQUEST_CHANNEL("request-channel");

        final String label;

        Interaction(String label) {
            this.label = label;
        }
    }

    private static final Map<String, Route> BY_NAME = new HashMap<>();

    static {
        for (Route r : values()) {
            BY_NAME.put(r.routeName, r);
        }
    }

    public final String routeName;
    final Interaction interaction;
    final Role role;

    Route(String routeName, Interaction interaction, Role role) {
        this.routeName = routeName;
        this.interaction = interaction;
        this.role = role;
    }

    /** Every route's name, in the order above, for error messages. */
    static String names() {
        StringBuilder b = new StringBuilder();
        Route[] all = values();
        for (int i = 0; i < all.length; i++) {
            b.append(i == 0 ? "" : i == all.length - 1 ? " and " : ", ").append(all[i].routeName);
        }
        return b.toString();
    }

    /** The route of that name, or null. */
    static Route named(String name) {
        return BY_NAME.get(name);
    }
}
