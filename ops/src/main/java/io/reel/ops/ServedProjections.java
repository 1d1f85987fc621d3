package io.reel.ops;

import io.reel.projection.Projections;
import io.reel.proto.ProjectionState;
import io.reel.proto.ProjectionStatus;
import io.reel.transport.ProjectionDirectory;
import com.google.protobuf.ByteString;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * The server's projections as the RSocket routes {@code projection.list} and {@code projection.state} show
 * them: the projection runtime's statuses and encoded states in the wire contract's messages. Neither call
 * blocks: statuses are in memory, and a state is encoded on the projection's own thread.
 */
final class ServedProjections implements ProjectionDirectory {
    private final Projections projections;

    ServedProjections(Projections projections) {
        this.projections = projections;
    }

    @Override
    public Mono<List<ProjectionStatus>> list() {
        return Mono.fromSupplier(() -> projections.list().stream().map(ServedProjections::status).toList());
    }

    @Override
    public Mono<ProjectionState> state(String name) {
        return Mono.defer(() -> projections.runner(name).isEmpty() ? Mono.empty()
            : projections.state(name).map(s -> ProjectionState.newBuilder().setName(s.name()).setPosition(s.position())
                .setContentType(s.contentType()).setState(ByteString.copyFrom(s.state())).build()));
    }

    private static ProjectionStatus status(io.reel.projection.ProjectionStatus s) {
        return ProjectionStatus.newBuilder().setName(s.name()).setStatus(s.phase().name()).setPosition(s.position())
            .setLagEvents(s.lagEvents()).setLagSeconds(s.lagSeconds()).setError(s.error()).build();
    }
}
