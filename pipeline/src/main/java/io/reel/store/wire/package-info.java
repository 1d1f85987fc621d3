/**
 * The protobuf form of the store's domain types, public so that the transport (server and client) and the store's
 * own system streams share one mapping. Public types: {@link io.reel.store.wire.ProtoMapping}.
 */
package io.reel.store.wire;
