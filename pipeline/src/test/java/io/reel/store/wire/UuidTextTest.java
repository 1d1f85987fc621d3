package io.reel.store.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** {@link UuidText} writes what {@link UUID#toString()} writes and reads it back, in either case. */
class UuidTextTest {
    @Property(tries = 300)
    void uuidTextRoundTrips(@ForAll long hi, @ForAll long lo) {
        UUID id = new UUID(hi, lo);
        byte[] written = new byte[UuidText.LENGTH + 2];
        assertThat(UuidText.write(written, 1, hi, lo)).isEqualTo(1 + UuidText.LENGTH);
        assertThat(new String(written, 1, UuidText.LENGTH, StandardCharsets.US_ASCII)).isEqualTo(id.toString());
        byte[] text = id.toString().getBytes(StandardCharsets.US_ASCII);
        assertThat(UuidText.parse(text, 0, text.length)).isEqualTo(id);
        byte[] upper = id.toString().toUpperCase().getBytes(StandardCharsets.US_ASCII);
        assertThat(UuidText.parse(upper, 0, upper.length)).isEqualTo(id);
    }

    @Property(tries = 100)
    void textThatIsNotCanonicalIsNoUuid(@ForAll byte[] text) {
        UUID parsed = UuidText.parse(text, 0, text.length);
        if (parsed != null) {
            assertThat(new String(text, StandardCharsets.ISO_8859_1).toLowerCase()).isEqualTo(parsed.toString());
        }
    }
}
