package io.reel;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import java.nio.file.Path;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The package map of {@code STYLE.md} as ArchUnit rules, shared by every module's architecture test: a module's
 * {@code internal} packages are used only by the module part they belong to, and packages form no cycles.
 */
public final class ReelArchitecture {
    private ReelArchitecture() {
    }

    /** The main classes of the module whose tests are running (surefire runs in the module's directory). */
    public static JavaClasses mainClasses() {
        Path dir = Path.of("target", "classes");
        JavaClasses classes = new ClassFileImporter().importPath(dir);
        if (classes.isEmpty()) {
            throw new IllegalStateException("no classes under " + dir.toAbsolutePath() + "; run the tests from the module's directory");
        }
        return classes;
    }

    /** Only {@code io.reel.<part>..} may use {@code io.reel.<part>.internal..}, for store, aggregate and transport. */
    public static ArchRule internalsStayInside(String part) {
        return noClasses().that().resideOutsideOfPackage("io.reel." + part + "..")
            .should().dependOnClassesThat().resideInAPackage("io.reel." + part + ".internal..")
            .as("only io.reel." + part + ".. uses io.reel." + part + ".internal..")
            .allowEmptyShould(true); // a module holding only that part has no class outside it
    }

    /** The classes of this module reach none of these packages. */
    public static ArchRule reachesNone(String... packages) {
        return noClasses().should().dependOnClassesThat().resideInAnyPackage(packages);
    }

    /**
     * No {@code Mono.thenMany} nor {@code Flux.thenMany}: each is a concat whose switch from a source that completed
     * empty can lose a request made at that moment from another thread (reactor-core 3.8.6), and the stream then waits
     * forever; {@code then(Mono.just(x)).flatMapMany(...)} keeps the request (see {@code IndexerStage#whenIndexed}).
     */
    public static ArchRule noThenMany() {
        return noClasses().should().callMethod(Mono.class, "thenMany", Publisher.class)
            .orShould().callMethod(Flux.class, "thenMany", Publisher.class)
            .as("no class calls thenMany, whose concat can lose a request racing its switch to the next source");
    }

    /** No cycles between the top-level parts ({@code io.reel.store}, {@code io.reel.aggregate}, ...). */
    public static ArchRule partsFreeOfCycles() {
        return slices().matching("io.reel.(*)..").should().beFreeOfCycles();
    }

    /**
     * No cycles between any two packages. For modules whose packages are not split into an API and its internals
     * (which depend on each other by design, as {@code io.reel.store} and {@code io.reel.store.internal.*} do).
     */
    public static ArchRule packagesFreeOfCycles() {
        return slices().matching("io.reel.(**)").should().beFreeOfCycles();
    }

    /** No cycles between the internal packages of a part (a part without sub-packages passes trivially) ({@code io.reel.store.internal.log}, {@code .writer}, ...). */
    public static ArchRule internalsFreeOfCycles(String part) {
        return slices().matching("io.reel." + part + ".internal.(*)..").should().beFreeOfCycles().allowEmptyShould(true);
    }
}
