package io.reel;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.junit.jupiter.api.Test;

/** The package map holds in {@code pipeline}: it reaches no other module, and its internals stay inside. */
class PipelineArchitectureTest {
    private final JavaClasses classes = ReelArchitecture.mainClasses();

    @Test
    void pipelineReachesNoOtherModuleNorTheNetwork() {
        ReelArchitecture.reachesNone("io.reel.transport..", "io.reel.projection..", "io.reel.ops..", "io.rsocket..", "io.netty..")
            .check(classes);
    }

    @Test
    void internalsAreUsedOnlyByTheirPart() {
        ReelArchitecture.internalsStayInside("store").check(classes);
        ReelArchitecture.internalsStayInside("aggregate").check(classes);
    }

    @Test
    void packagesFormNoCycles() {
        ReelArchitecture.partsFreeOfCycles().check(classes);
        ReelArchitecture.internalsFreeOfCycles("store").check(classes);
    }

    @Test
    void nothingCallsThenMany() {
        ReelArchitecture.noThenMany().check(classes);
    }
}
