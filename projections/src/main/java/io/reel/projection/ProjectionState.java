package io.reel.projection;

/**
 * A projection's state as {@code projection.state} returns it over the wire: encoded by its
 * {@link io.reel.aggregate.StateCodec}, with the position it reflects (every event before {@code position} is in it).
 *
 * @param name        the projection's name
 * @param position    the next position the projection will apply
 * @param contentType how {@code state} is encoded, e.g. {@code application/json}
 * @param state       the encoded state (owned by the caller)
 */
public record ProjectionState(String name, long position, String contentType, byte[] state) {
    @Override
    public String toString() {
        return "ProjectionState{" + name + " at " + position + ", " + contentType + ", " + state.length + " bytes}";
    }
}
