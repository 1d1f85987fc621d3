package io.reel.store;

import io.reel.store.internal.subscription.LogSubscription;
import io.reel.store.internal.subscription.ProjectorStage;
import java.lang.reflect.Field;
import java.util.List;

/** Test access to a store's live subscriptions, to look at what a subscription holds. */
final class Internals {
    private Internals() {
    }

    static List<LogSubscription> subscriptions(EventStore store) {
        try {
            Field f = EventStore.class.getDeclaredField("projector");
            f.setAccessible(true);
            return List.copyOf(((ProjectorStage) f.get(store)).subscriptions());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("EventStore has no projector field any more; update Internals", e);
        }
    }

    static LogSubscription subscription(EventStore store, String name) {
        return subscriptions(store).stream().filter(s -> s.name().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no live subscription named " + name));
    }
}
