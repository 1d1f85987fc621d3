package io.reel;

import com.tngtech.archunit.core.domain.JavaClasses;
import org.junit.jupiter.api.Test;

/** The package map holds in {@code ops}: it wires the modules through their APIs, never their internals. */
class OpsArchitectureTest {
    private final JavaClasses classes = ReelArchitecture.mainClasses();

    @Test
    void otherModulesInternalsAreNotUsed() {
        ReelArchitecture.internalsStayInside("store").check(classes);
        ReelArchitecture.internalsStayInside("aggregate").check(classes);
        ReelArchitecture.internalsStayInside("transport").check(classes);
    }

    @Test
    void packagesFormNoCycles() {
        ReelArchitecture.partsFreeOfCycles().check(classes);
    }

    @Test
    void nothingCallsThenMany() {
        ReelArchitecture.noThenMany().check(classes);
    }
}
