package io.reel.transport;

import java.util.Locale;

/**
 * How the data of requests and responses is encoded: the messages of {@code reel.proto} (package
 * {@code reel.v1}) in protobuf binary or in the standard protobuf JSON mapping. A connection chooses one in
 * its SETUP frame (the data mime type); a request may override it with a per-request
 * {@code message/x.rsocket.mime-type.v0} metadata entry.
 */
public enum WireFormat {
    /** {@code application/x-protobuf}: the binary messages; reads and subscriptions send the stored bytes as they are. */
    PROTOBUF("application/x-protobuf"),
    /** {@code application/json}: the protobuf JSON mapping of the same messages, for clients without protobuf. */
    JSON("application/json");

    private final String mimeType;

    WireFormat(String mimeType) {
        this.mimeType = mimeType;
    }

    public String mimeType() {
        return mimeType;
    }

    /** The format of a mime type ({@code ;} parameters ignored, case-insensitive), or null when Reel does not speak it. */
    public static WireFormat ofMimeType(String mime) {
        if (mime == null) {
            return null;
        }
        int semicolon = mime.indexOf(';');
        String base = (semicolon < 0 ? mime : mime.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
        for (WireFormat f : values()) {
            if (f.mimeType.equals(base)) {
                return f;
            }
        }
        return null;
    }

    public static String supported() {
        return PROTOBUF.mimeType + " or " + JSON.mimeType;
    }
}
