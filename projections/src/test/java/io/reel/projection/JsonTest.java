package io.reel.projection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void writesWithPythonsDefaultSeparatorsKeepingMapOrder() {
        Map<String, Object> counts = new TreeMap<>(Map.of("b", 2L, "a", 1L));
        assertThat(Json.write(Map.of("counts", counts))).isEqualTo("{\"counts\": {\"a\": 1, \"b\": 2}}");
        assertThat(Json.write(Map.of("counts", Map.of()))).isEqualTo("{\"counts\": {}}");
        assertThat(Json.write(Arrays.asList(1, "x", true, null, 2.5, List.of()))).isEqualTo("[1, \"x\", true, null, 2.5, []]");
        assertThat(Json.write("quote \" backslash \\ newline \n tab \t bell \u0007 é"))
            .isEqualTo("\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007 é\"");
    }

    @Test
    void parsesWhatOthersWrite() {
        Object parsed = Json.parse(" {\"a\":[1,-2.5e3,\"\\u00e9\\/\"],\n\"b\":{\"c\":null,\"d\":false},\"big\":123456789012345678901234} ");
        assertThat(parsed).isEqualTo(Map.of("a", List.of(1L, -2500.0, "é/"), "b", mapOf("c", null, "d", false),
            "big", 1.2345678901234568E23));
    }

    @Test
    void rejectsMalformedTextNamingTheOffset() {
        assertThatThrownBy(() -> Json.parse("{\"a\": 1,}")).isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("invalid JSON at offset 8");
        assertThatThrownBy(() -> Json.parse("[1 2]")).hasMessageContaining("expected ',' or ']'");
        assertThatThrownBy(() -> Json.parse("{\"a\": 1} x")).hasMessageContaining("unexpected text after the value");
        assertThatThrownBy(() -> Json.parse("\"open")).hasMessageContaining("unexpected end");
        assertThatThrownBy(() -> Json.write(Map.of("nan", Double.NaN))).hasMessageContaining("JSON has no NaN");
        assertThatThrownBy(() -> Json.write(new Object())).hasMessageContaining("cannot write a java.lang.Object");
    }

    @Property(tries = 300)
    void parseInvertsWrite(@ForAll("trees") Object tree) {
        assertThat(Json.parse(Json.write(tree))).isEqualTo(tree);
    }

    @Provide
    Arbitrary<Object> trees() {
        Arbitrary<Object> leaves = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(12).map(s -> (Object) s),
            Arbitraries.longs().map(l -> (Object) l), Arbitraries.of(true, false).map(b -> (Object) b),
            Arbitraries.doubles().ofScale(3).between(-1e6, 1e6).filter(d -> d != Math.rint(d)).map(d -> (Object) d));
        return Arbitraries.recursive(() -> leaves, inner -> Arbitraries.oneOf(
            inner.list().ofMaxSize(4).map(l -> (Object) new ArrayList<>(l)),
            Arbitraries.maps(Arbitraries.strings().ofMaxLength(6), inner).ofMaxSize(4).map(m -> (Object) new LinkedHashMap<>(m))), 3);
    }

    private static Map<String, Object> mapOf(String k1, Object v1, String k2, Object v2) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }
}
