package io.reel.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import java.nio.charset.StandardCharsets;
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

class StateCodecTest {
    private static final StateCodec<Object> TREE = StateCodec.json(tree -> tree, tree -> tree);

    private static String write(Object tree) {
        return new String(TREE.encode(tree), StandardCharsets.UTF_8);
    }

    private static Object parse(String text) {
        return TREE.decode(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void jsonWritesWithSpaceAfterSeparatorsKeepingMapOrder() {
        Map<String, Object> counts = new TreeMap<>(Map.of("b", 2L, "a", 1L));
        assertThat(write(Map.of("counts", counts))).isEqualTo("{\"counts\": {\"a\": 1, \"b\": 2}}");
        assertThat(write(Map.of("counts", Map.of()))).isEqualTo("{\"counts\": {}}");
        assertThat(write(Arrays.asList(1, "x", true, null, 2.5, List.of()))).isEqualTo("[1, \"x\", true, null, 2.5, []]");
        assertThat(write("quote \" backslash \\ newline \n tab \t bell \u0007 é <"))
            .isEqualTo("\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007 é <\"");
        assertThat(TREE.contentType()).isEqualTo("application/json");
    }

    @Test
    void jsonParsesWhatOthersWrite() {
        Object parsed = parse(" {\"a\":[1,-2.5e3,\"\\u00e9\\/\"],\n\"b\":{\"c\":null,\"d\":false}} ");
        assertThat(parsed).isEqualTo(Map.of("a", List.of(1L, -2500.0, "é/"), "b", mapOf("c", null, "d", false)));
    }

    @Test
    void jsonRejectsMalformedText() {
        assertThatThrownBy(() -> parse("{\"a\": 1,}")).isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("invalid JSON");
        assertThatThrownBy(() -> parse("[1 2]")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> parse("{\"a\": 1} x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> parse("\"open")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> parse("{a: 1}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> write(Map.of("nan", Double.NaN))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ofCarriesSchemaVersionAndContentType() {
        StateCodec<Long> snapshots = StateCodec.of(3, l -> Int64Value.of(l).toByteArray(), b -> 0L);
        assertThat(snapshots.schemaVersion()).isEqualTo(3);
        assertThat(snapshots.contentType()).isEqualTo("application/octet-stream");
        StateCodec<Int64Value> proto = StateCodec.protobuf(Int64Value.parser());
        assertThat(proto.decode(proto.encode(Int64Value.of(42)))).isEqualTo(Int64Value.of(42));
        assertThat(proto.schemaVersion()).isEqualTo(1);
        assertThat(proto.contentType()).isEqualTo("application/x-protobuf");
        assertThatThrownBy(() -> proto.decode(new byte[] {(byte) 0xFF})).isInstanceOf(IllegalArgumentException.class);
    }

    @Property(tries = 300)
    void jsonParseInvertsWrite(@ForAll("trees") Object tree) {
        assertThat(parse(write(tree))).isEqualTo(tree);
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
