package io.reel;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.junit.jupiter.api.Test;

/** The package map holds in {@code projections}: it sees the {@code EventSource} API, never the transport or internals. */
class ProjectionsArchitectureTest {
    private final JavaClasses classes = ReelArchitecture.mainClasses();

    @Test
    void projectionsNeverReachTransportNorOps() {
        ReelArchitecture.reachesNone("io.reel.transport..", "io.reel.ops..").check(classes);
    }

    @Test
    void otherModulesInternalsAreNotUsed() {
        ReelArchitecture.internalsStayInside("store").check(classes);
        ReelArchitecture.internalsStayInside("aggregate").check(classes);
        ReelArchitecture.internalsStayInside("transport").check(classes);
    }

    @Test
    void packagesFormNoCycles() {
        ReelArchitecture.partsFreeOfCycles().check(classes);
        ReelArchitecture.packagesFreeOfCycles().check(classes);
    }

    @Test
    void nothingCallsThenMany() {
        ReelArchitecture.noThenMany().check(classes);
    }
}
