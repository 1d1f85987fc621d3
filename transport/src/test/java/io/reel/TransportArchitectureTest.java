package io.reel;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.junit.jupiter.api.Test;

/** The package map holds in {@code transport}: it never reaches {@code ops} nor the pipeline's internals. */
class TransportArchitectureTest {
    private final JavaClasses classes = ReelArchitecture.mainClasses();

    @Test
    void transportReachesNeitherOpsNorProjections() {
        ReelArchitecture.reachesNone("io.reel.ops..", "io.reel.projection..").check(classes);
    }

    @Test
    void internalsAreUsedOnlyByTheirPart() {
        ReelArchitecture.internalsStayInside("store").check(classes);
        ReelArchitecture.internalsStayInside("aggregate").check(classes);
        ReelArchitecture.internalsStayInside("transport").check(classes);
    }

    @Test
    void packagesFormNoCycles() {
        ReelArchitecture.partsFreeOfCycles().check(classes);
        ReelArchitecture.internalsFreeOfCycles("transport").check(classes);
    }

    @Test
    void nothingCallsThenMany() {
        ReelArchitecture.noThenMany().check(classes);
    }
}
