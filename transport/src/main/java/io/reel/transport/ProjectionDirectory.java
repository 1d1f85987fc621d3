package io.reel.transport;

import io.reel.proto.ProjectionState;
import io.reel.proto.ProjectionStatus;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * What the server's {@code projection.list} and {@code projection.state} routes show. The transport does not
 * know the projection runtime; whoever wires the server (the {@code ops} module) adapts the runtime to this.
 *
 * <p>Both methods are called on a Netty event loop: they must not block. Return {@code Mono.fromCallable(...)
 * .subscribeOn(Schedulers.boundedElastic())} if an answer needs I/O.
 */
public interface ProjectionDirectory {
    /** No projections: {@code projection.list} is empty and every {@code projection.state} is {@code NOT_FOUND}. */
    ProjectionDirectory NONE = new ProjectionDirectory() {
        @Override
        public Mono<List<ProjectionStatus>> list() {
            return Mono.just(List.of());
        }

        @Override
        public Mono<ProjectionState> state(String name) {
            return Mono.empty();
        }
    };

    /** Every projection with its status, position and lag. */
    Mono<List<ProjectionStatus>> list();

    /** The named projection's state, or an empty {@code Mono} when there is no projection of that name. */
    Mono<ProjectionState> state(String name);
}
