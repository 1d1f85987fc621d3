/**
 * Reel over RSocket (TCP or WebSocket, optional TLS and tokens): the server in front of an embedded store and the
 * client that speaks to it; codecs, the responder and batching live in {@code io.reel.transport.internal}.
 *
 * <p>Public types: {@link io.reel.transport.ReelServer}, {@link io.reel.transport.ServerSettings},
 * {@link io.reel.transport.ReelClient}, {@link io.reel.transport.ClientSettings}, {@link io.reel.transport.WireFormat},
 * {@link io.reel.transport.RemoteGroups}, {@link io.reel.transport.RemoteDelivery},
 * {@link io.reel.transport.ProjectionDirectory}.
 */
package io.reel.transport;
