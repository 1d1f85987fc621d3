package io.reel.aggregate;

import com.google.gson.FormattingStyle;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.ToNumberPolicy;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns a state into bytes and back: an aggregate's state in its snapshots, a projection's state saved with
 * its checkpoint and returned by a query over the wire. One interface for both, so that a codec written for
 * one serves the other.
 *
 * <p>{@code decode(encode(s))} must give a state that behaves as {@code s} for every later event or command.
 * Neither method may keep a reference to its argument.
 *
 * <ul>
 *   <li>{@link #schemaVersion()} is stored in every aggregate snapshot: a snapshot of another version is ignored
 *       (and the state rebuilt from events), so bump it whenever the encoding or the meaning of the state
 *       changes.</li>
 *   <li>{@link #contentType()} labels a projection's state for the clients that query it.</li>
 * </ul>
 *
 * @param <S> the state type
 */
public interface StateCodec<S> {
    /** The version of the encoding; aggregate snapshots of any other version are ignored. 1 unless given. */
    default int schemaVersion() {
        return 1;
    }

    /** How {@link #encode} encodes, e.g. {@code application/json}; {@code application/octet-stream} unless given. */
    default String contentType() {
        return "application/octet-stream";
    }

    byte[] encode(S state);

    /**
     * The state encoded in {@code bytes}; throws on bytes it cannot read (an aggregate snapshot is then ignored,
     * a projection stops as FAILED).
     */
    S decode(byte[] bytes);

    /** A codec from two functions, with a schema version (for aggregate snapshots). */
    static <S> StateCodec<S> of(int schemaVersion, Function<? super S, byte[]> encode, Function<byte[], ? extends S> decode) {
        return of(schemaVersion, "application/octet-stream", encode, decode);
    }

    /** A codec from two functions, with a content type (for projection states). */
    static <S> StateCodec<S> of(String contentType, Function<? super S, byte[]> encode, Function<byte[], ? extends S> decode) {
        return of(1, contentType, encode, decode);
    }

    /** A codec from two functions, with both a schema version and a content type. */
    static <S> StateCodec<S> of(int schemaVersion, String contentType, Function<? super S, byte[]> encode,
                                Function<byte[], ? extends S> decode) {
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(encode, "encode");
        Objects.requireNonNull(decode, "decode");
        return new StateCodec<>() {
            @Override
            public int schemaVersion() {
                return schemaVersion;
            }

            @Override
            public String contentType() {
                return contentType;
            }

            @Override
            public byte[] encode(S state) {
                return encode.apply(state);
            }

            @Override
            public S decode(byte[] bytes) {
                return decode.apply(bytes);
            }

            @Override
            public String toString() {
                return "StateCodec{" + contentType + ", schema " + schemaVersion + "}";
            }
        };
    }

    /**
     * A JSON codec ({@code application/json}, UTF-8, written and read by Gson): {@code toJson} maps the state to
     * a tree of {@link java.util.Map}s (string keys), {@link java.util.List}s, strings, numbers, booleans and
     * nulls; {@code fromJson} gets the same kind of tree back, with insertion-ordered maps, lists, {@code Long}
     * for integers and {@code Double} for other numbers. Output separates with {@code ", "} and {@code ": "}
     * ({@code {"counts": {"A": 1}}}) and keeps each map's iteration order: give sorted maps for a stable encoding.
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
            state -> JsonTree.GSON.toJson(toJson.apply(state)).getBytes(StandardCharsets.UTF_8),
            bytes -> fromJson.apply(JsonTree.parse(new String(bytes, StandardCharsets.UTF_8))));
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

/** The Gson set-up behind {@link StateCodec#json}. */
final class JsonTree {
    static final Gson GSON = new GsonBuilder()
        .setFormattingStyle(FormattingStyle.COMPACT.withSpaceAfterSeparators(true))
        .disableHtmlEscaping()
        .serializeNulls()
        .setStrictness(Strictness.STRICT)
        .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE)
        .create();

    private JsonTree() {
    }

    /** One JSON value filling the whole text, as plain maps, lists, strings, numbers, booleans and null. */
    static Object parse(String text) {
        try {
            return GSON.fromJson(text, Object.class);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getMessage(), e);
        }
    }
}
