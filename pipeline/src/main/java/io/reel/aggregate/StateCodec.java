package io.reel.aggregate;

import java.util.Objects;
import java.util.function.Function;

/**
 * Turns an aggregate's state into the bytes of a snapshot and back. The schema version is stored in every
 * snapshot: a snapshot of another version is ignored (and the state rebuilt from events), so bump it whenever
 * the encoding or the meaning of the state changes.
 */
public interface StateCodec<S> {
    /** The version of the encoding; snapshots of any other version are ignored. */
    int schemaVersion();

    byte[] encode(S state);

    /** The state encoded in {@code bytes}; may throw on bytes it cannot read (the snapshot is then ignored). */
    S decode(byte[] bytes);

    /** A codec from two functions. */
    static <S> StateCodec<S> of(int schemaVersion, Function<S, byte[]> encode, Function<byte[], S> decode) {
        Objects.requireNonNull(encode, "encode");
        Objects.requireNonNull(decode, "decode");
        return new StateCodec<>() {
            @Override
            public int schemaVersion() {
                return schemaVersion;
            }

            @Override
            public byte[] encode(S state) {
                return encode.apply(state);
            }

            @Override
            public S decode(byte[] bytes) {
                return decode.apply(bytes);
            }
        };
    }
}
