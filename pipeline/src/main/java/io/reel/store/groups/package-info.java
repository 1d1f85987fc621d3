/**
 * Consumer groups: competing consumers sharing one filtered feed of the log, with acks, retries and parking;
 * the API is {@link io.reel.store.groups.ConsumerGroups} ({@code store.groups()}), the dispatcher stays package-private.
 *
 * <p>Public types: {@link io.reel.store.groups.ConsumerGroups}, {@link io.reel.store.groups.GroupOptions},
 * {@link io.reel.store.groups.GroupStatus}, {@link io.reel.store.groups.Delivery}, {@link io.reel.store.groups.Nack},
 * {@link io.reel.store.groups.GroupCodec} (their one protobuf form, shared by the group files and the wire).
 */
package io.reel.store.groups;
