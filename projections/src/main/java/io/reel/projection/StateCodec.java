package io.reel.projection;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns a projection's state into bytes and back: what is saved with its checkpoint and what a query over the
 * wire returns, labelled with {@link #contentType()}.
 *
 * <p>{@code decode(encode(s))} must give a state that behaves as {@code s} for every later event: a runner
 * restarted from a checkpoint continues from the decoded state. Neither method may keep a reference to its
 * argument. Both run on the projection's own thread.
 *
 * @param <S> the state type
 */
public interface StateCodec<S> {
    /** How {@link #encode} encodes, e.g. {@code application/json}. */
    String contentType();

    byte[] encode(S state);

    /** The state encoded in {@code bytes}; throws when they do not decode (the runner then stops as FAILED). */
    S decode(byte[] bytes);

    /** A codec from two functions. */
    static <S> StateCodec<S> of(String contentType, Function<? super S, byte[]> encoder, Function<byte[], ? extends S> decoder) {
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(encoder, "encoder");
        Objects.requireNonNull(decoder, "decoder");
        return new StateCodec<>() {
            @Override
            public String contentType() {
                return contentType;
            }

            @Override
            public byte[] encode(S state) {
                return encoder.apply(state);
            }

            @Override
            public S decode(byte[] bytes) {
                return decoder.apply(bytes);
            }

            @Override
            public String toString() {
                return "StateCodec{" + contentType + "}";
            }
        };
    }

    /**
     * A JSON codec ({@code application/json}, UTF-8) that needs no JSON library: {@code toJson} maps the state
     * to a tree of {@link java.util.Map}s (string keys), {@link java.util.List}s, strings, numbers, booleans
     * and nulls; {@code fromJson} gets the same kind of tree back, with {@code LinkedHashMap}s, {@code ArrayList}s,
     * {@code Long} for integers and {@code Double} for other numbers. Output separates with {@code ", "} and
     * {@code ": "} and keeps each map's iteration order: give sorted maps for a stable encoding.
     *
     * <pre>{@code
     * StateCodec<Map<String, Long>> codec = StateCodec.json(
     *     totals -> Map.of("totals", new TreeMap<>(totals)),
     *     json -> ...);
     * }</pre>
     */
    static <S> StateCodec<S> json(Function<? super S, ?> toJson, Function<Object, ? extends S> fromJson) {
        Objects.requireNonNull(toJson, "toJson");
        Objects.requireNonNull(fromJson, "fromJson");
        return of("application/json",
            state -> Json.write(toJson.apply(state)).getBytes(StandardCharsets.UTF_8),
            bytes -> fromJson.apply(Json.parse(new String(bytes, StandardCharsets.UTF_8))));
    }

    /** A protobuf message as the state ({@code application/x-protobuf}): immutable, so handlers fold with {@code toBuilder()}. */
    static <M extends MessageLite> StateCodec<M> protobuf(Parser<M> parser) {
        Objects.requireNonNull(parser, "parser");
        return of("application/x-protobuf", MessageLite::toByteArray, bytes -> {
            try {
                return parser.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalArgumentException("the saved state is not a valid protobuf message: " + e.getMessage(), e);
            }
        });
    }
}
