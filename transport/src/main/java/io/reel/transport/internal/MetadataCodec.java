package io.reel.transport.internal;

import io.netty.buffer.ByteBuf;
import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import io.rsocket.metadata.AuthMetadataCodec;
import io.rsocket.metadata.CompositeMetadata;
import io.rsocket.metadata.MimeTypeMetadataCodec;
import io.rsocket.metadata.RoutingMetadata;
import io.rsocket.metadata.WellKnownAuthType;
import io.rsocket.metadata.WellKnownMimeType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;

/**
 * The RSocket metadata Reel reads and writes: composite metadata ({@code message/x.rsocket.composite-metadata.v0})
 * whose entries are routing ({@code message/x.rsocket.routing.v0}), an optional per-request data mime type
 * ({@code message/x.rsocket.mime-type.v0}) and, in SETUP, authentication ({@code message/x.rsocket.authentication.v0},
 * bearer). Other entries (tracing, ...) are ignored. This is what Spring's {@code RSocketRequester} and rsocket-js send:
 *
 * <pre>
 * composite entry:  1 byte  0x80 | well-known mime id   (or: 1 byte length-1, then the mime type in ASCII)
 *                   3 bytes content length, big-endian
 *                   content
 * routing content:  1 byte tag length, tag (UTF-8)      (the first tag is the route)
 * bearer content:   1 byte 0x81 (well-known auth type 1, bearer), token (UTF-8)
 * </pre>
 */
public final class MetadataCodec {
    public static final String COMPOSITE = WellKnownMimeType.MESSAGE_RSOCKET_COMPOSITE_METADATA.getString();
    public static final String ROUTING = WellKnownMimeType.MESSAGE_RSOCKET_ROUTING.getString();
    static final String MIME_TYPE = WellKnownMimeType.MESSAGE_RSOCKET_MIMETYPE.getString();
    public static final String AUTHENTICATION = WellKnownMimeType.MESSAGE_RSOCKET_AUTHENTICATION.getString();
    /** The bearer-only mime type older Spring Security versions send. */
    public static final String LEGACY_BEARER = "message/x.rsocket.authentication.bearer.v0";

    private MetadataCodec() {
    }

    /** What the metadata of a request says: its route, and the data mime type it overrides (or null). */
    record RequestMetadata(String route, String dataMimeType) {
    }

    static RequestMetadata decodeRequest(ByteBuf metadata) {
        if (metadata == null || !metadata.isReadable()) {
            throw noRoute();
        }
        String route = null;
        String mime = null;
        try {
            for (CompositeMetadata.Entry entry : new CompositeMetadata(metadata, false)) {
                String type = entry.getMimeType();
                if (ROUTING.equals(type)) {
                    Iterator<String> tags = new RoutingMetadata(entry.getContent()).iterator();
                    if (tags.hasNext() && route == null) {
                        route = tags.next();
                    }
                } else if (MIME_TYPE.equals(type)) {
                    List<String> mimes = MimeTypeMetadataCodec.decode(entry.getContent());
                    if (!mimes.isEmpty()) {
                        mime = mimes.get(0);
                    }
                }
            }
        } catch (RuntimeException e) {
            throw WireErrors.invalid("the request metadata is not valid composite metadata (" + COMPOSITE + "): " + e.getMessage());
        }
        if (route == null) {
            throw noRoute();
        }
        return new RequestMetadata(route, mime);
    }

    private static ReelException noRoute() {
        return WireErrors.invalid("the request carries no routing metadata: add a " + ROUTING
            + " entry naming the route (e.g. 'append') to its composite metadata");
    }

    /** The bearer token in SETUP metadata, or null when there is none. */
    public static String bearerToken(ByteBuf metadata) {
        if (metadata == null || !metadata.isReadable()) {
            return null;
        }
        try {
            for (CompositeMetadata.Entry entry : new CompositeMetadata(metadata, false)) {
                String type = entry.getMimeType();
                ByteBuf content = entry.getContent();
                if (AUTHENTICATION.equals(type)) {
                    if (!AuthMetadataCodec.isWellKnownAuthType(content)
                        || AuthMetadataCodec.readWellKnownAuthType(content) != WellKnownAuthType.BEARER) {
                        throw new ReelException(ErrorCode.UNAUTHORIZED,
                            "the SETUP authentication is not a bearer token; Reel accepts bearer tokens only");
                    }
                    return new String(AuthMetadataCodec.readBearerTokenAsCharArray(content));
                }
                if (LEGACY_BEARER.equals(type)) {
                    return content.toString(StandardCharsets.UTF_8);
                }
            }
        } catch (ReelException e) {
            throw e;
        } catch (RuntimeException e) {
            throw WireErrors.invalid("the SETUP metadata is not valid composite metadata (" + COMPOSITE + "): " + e.getMessage());
        }
        return null;
    }

    // ---------------------------------------------------------------------------------- encoding (client)

    /** Composite metadata with one routing entry naming {@code route}. */
    public static byte[] routeMetadata(String route) {
        byte[] tag = route.getBytes(StandardCharsets.UTF_8);
        if (tag.length == 0 || tag.length > 255) {
            throw WireErrors.invalid("route '" + route + "' must be 1 to 255 bytes of UTF-8");
        }
        byte[] content = new byte[1 + tag.length];
        content[0] = (byte) tag.length;
        System.arraycopy(tag, 0, content, 1, tag.length);
        return compositeEntry(WellKnownMimeType.MESSAGE_RSOCKET_ROUTING, content);
    }

    /** SETUP metadata: composite metadata with a bearer authentication entry, or empty without a token. */
    public static byte[] setupMetadata(String token) {
        if (token == null) {
            return new byte[0];
        }
        byte[] t = token.getBytes(StandardCharsets.UTF_8);
        byte[] content = new byte[1 + t.length];
        content[0] = (byte) (0x80 | WellKnownAuthType.BEARER.getIdentifier());
        System.arraycopy(t, 0, content, 1, t.length);
        return compositeEntry(WellKnownMimeType.MESSAGE_RSOCKET_AUTHENTICATION, content);
    }

    static byte[] compositeEntry(WellKnownMimeType mime, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4 + content.length);
        out.write(0x80 | mime.getIdentifier());
        out.write(content.length >>> 16);
        out.write(content.length >>> 8);
        out.write(content.length);
        out.writeBytes(content);
        return out.toByteArray();
    }
}
