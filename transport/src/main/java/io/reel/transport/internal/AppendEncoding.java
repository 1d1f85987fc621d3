package io.reel.transport.internal;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.reel.proto.Expectation;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.UUID;

/**
 * The protobuf encoding of an {@code AppendRequest}, written straight from the client's {@link EventData} with
 * protobuf's own {@link CodedOutputStream}: the same bytes the generated message writes (fields in number order,
 * empty strings and bytes left out, the {@code expected} oneof always present), without building an
 * {@code AppendRequest} and its {@code EventData} messages, the event id's text as a {@code String}, or copies
 * of data and metadata into {@code ByteString}s first. An append is encoded once, on the caller's thread; a
 * batch ({@code AppendBatch}: field 1, repeated) is the encoded appends one after the other.
 */
public final class AppendEncoding {
    private static final int REQUEST_STREAM = 1;
    private static final int REQUEST_EXPECTATION = 2;
    private static final int REQUEST_REVISION = 3;
    private static final int REQUEST_EVENTS = 4;
    private static final int EVENT_ID = 1;
    private static final int EVENT_TYPE = 2;
    private static final int EVENT_CONTENT_TYPE = 3;
    private static final int EVENT_DATA = 4;
    private static final int EVENT_METADATA = 5;
    private static final int BATCH_APPENDS = 1;
    /** The length of a UUID in canonical text form. */
    private static final int UUID_TEXT = 36;
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private AppendEncoding() {
    }

    /** The encoded {@code AppendRequest} of an append of {@code events} to {@code stream}. */
    public static byte[] request(String stream, ExpectedRevision expected, List<EventData> events) {
        byte[] streamUtf8 = stream.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int[] eventSizes = new int[events.size()];
        int size = bytesSize(REQUEST_STREAM, streamUtf8.length) + expectedSize(expected);
        for (int i = 0; i < events.size(); i++) {
            EventData e = events.get(i);
            int eventSize = CodedOutputStream.computeTagSize(EVENT_ID) + 1 + UUID_TEXT
                + bytesSize(EVENT_TYPE, e.typeUtf8().length) + bytesSize(EVENT_CONTENT_TYPE, e.contentTypeUtf8().length)
                + bytesSize(EVENT_DATA, e.data().length) + bytesSize(EVENT_METADATA, e.metadata().length);
            eventSizes[i] = eventSize;
            size += CodedOutputStream.computeTagSize(REQUEST_EVENTS) + CodedOutputStream.computeUInt32SizeNoTag(eventSize) + eventSize;
        }
        byte[] out = new byte[size];
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        try {
            writeBytes(o, REQUEST_STREAM, streamUtf8);
            if (expected.isExact()) {
                o.writeUInt64(REQUEST_REVISION, expected.revision());
            } else {
                o.writeEnum(REQUEST_EXPECTATION, expectation(expected).getNumber());
            }
            byte[] id = new byte[UUID_TEXT];
            for (int i = 0; i < events.size(); i++) {
                EventData e = events.get(i);
                o.writeTag(REQUEST_EVENTS, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                o.writeUInt32NoTag(eventSizes[i]);
                uuidText(e.eventId(), id);
                o.writeByteArray(EVENT_ID, id);
                writeBytes(o, EVENT_TYPE, e.typeUtf8());
                writeBytes(o, EVENT_CONTENT_TYPE, e.contentTypeUtf8());
                writeBytes(o, EVENT_DATA, e.data());
                writeBytes(o, EVENT_METADATA, e.metadata());
            }
            o.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException("an AppendRequest did not fit the size computed for it", e);
        }
        return out;
    }

    /** The bytes {@code request} takes inside an {@code AppendBatch}. */
    public static int batchedSize(byte[] request) {
        return CodedOutputStream.computeTagSize(BATCH_APPENDS) + CodedOutputStream.computeUInt32SizeNoTag(request.length) + request.length;
    }

    /** An {@code AppendBatch} of encoded requests, in a pooled direct buffer (the caller hands it on or releases it). */
    public static ByteBuf batch(List<byte[]> requests) {
        int size = 0;
        for (byte[] r : requests) {
            size += batchedSize(r);
        }
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(size);
        byte[] header = new byte[10];
        for (byte[] r : requests) {
            CodedOutputStream o = CodedOutputStream.newInstance(header);
            try {
                o.writeTag(BATCH_APPENDS, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                o.writeUInt32NoTag(r.length);
            } catch (IOException e) {
                buf.release();
                throw new UncheckedIOException(e);
            }
            buf.writeBytes(header, 0, o.getTotalBytesWritten()).writeBytes(r);
        }
        return buf;
    }

    static Expectation expectation(ExpectedRevision expected) {
        if (expected.equals(ExpectedRevision.NO_STREAM)) {
            return Expectation.NO_STREAM;
        }
        if (expected.equals(ExpectedRevision.STREAM_EXISTS)) {
            return Expectation.STREAM_EXISTS;
        }
        return Expectation.ANY;
    }

    private static int expectedSize(ExpectedRevision expected) {
        return expected.isExact() ? CodedOutputStream.computeUInt64Size(REQUEST_REVISION, expected.revision())
            : CodedOutputStream.computeEnumSize(REQUEST_EXPECTATION, expectation(expected).getNumber());
    }

    /** A proto3 string or bytes field: left out when empty. */
    private static int bytesSize(int field, int length) {
        return length == 0 ? 0 : CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt32SizeNoTag(length) + length;
    }

    private static void writeBytes(CodedOutputStream o, int field, byte[] value) throws IOException {
        if (value.length > 0) {
            o.writeByteArray(field, value);
        }
    }

    /** {@code id} as {@link UUID#toString()} writes it (lower-case hex, 8-4-4-4-12), into {@code out}. */
    static void uuidText(UUID id, byte[] out) {
        long msb = id.getMostSignificantBits();
        long lsb = id.getLeastSignificantBits();
        hex(msb >>> 32, out, 0, 8);
        out[8] = '-';
        hex(msb >>> 16, out, 9, 4);
        out[13] = '-';
        hex(msb, out, 14, 4);
        out[18] = '-';
        hex(lsb >>> 48, out, 19, 4);
        out[23] = '-';
        hex(lsb, out, 24, 12);
    }

    private static void hex(long value, byte[] out, int at, int digits) {
        for (int i = at + digits - 1; i >= at; i--) {
            out[i] = HEX[(int) (value & 0xF)];
            value >>>= 4;
        }
    }
}
