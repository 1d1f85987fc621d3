/**
 * The transport's insides: routes and message codecs, the per-connection responder, group join channels, batching
 * of subscription items, wire errors, tokens and metrics. Internal: only {@code io.reel.transport} may use it.
 */
package io.reel.transport.internal;
