package io.reel.transport.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.reel.proto.EventBatch;
import io.reel.proto.EventRecord;
import io.reel.proto.GroupDelivery;
import io.reel.proto.SubscriptionItem;
import io.reel.store.ErrorCode;
import io.reel.store.RecordedEvent;
import io.reel.store.ReelException;
import io.reel.store.SubscriptionMessage;
import io.reel.transport.WireFormat;
import io.rsocket.Payload;
import io.rsocket.util.ByteBufPayload;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes and decodes the data of payloads in a {@link WireFormat}.
 *
 * <p>Records go out as stored: in protobuf a record payload is the stored {@code EventRecord} bytes
 * ({@link RecordedEvent#encoded()}), and a batch is those bytes each behind a field tag and a length, so
 * nothing is re-encoded:
 *
 * <pre>
 * EventBatch        = { 0x0A varint(len) EventRecord }*                  (field 1, repeated)
 * GroupDelivery     = 0x0A varint(len) EventRecord [0x10 varint(retry)] (fields 1: record, 2: retry_count, left out when 0)
 * SubscriptionItem  = 0x0A varint(len) EventRecord                       (field 1: event)
 *                   | 0x12 varint(len) EventBatch                        (field 2: batch)
 *                   | 0x18 varint(next position)                         (field 3: caught_up)
 *                   | 0x20 varint(next position)                         (field 4: checkpoint)
 * </pre>
 *
 * In JSON every message is the standard protobuf JSON mapping, printed with every field at its default
 * ({@code 0}, {@code ""}, {@code false}, {@code []}): a client that maps replies onto records with primitive
 * fields (Jackson 3 in Spring Boot 4 fails on a missing primitive by default) works unconfigured. Fields
 * with presence (a oneof, a message) are printed only when set.
 * Decoding JSON rejects unknown fields, so a misspelt field is an error rather than silently ignored.
 */
public final class MessageCodec {
    private static final JsonFormat.Parser JSON_IN = JsonFormat.parser();
    private static final JsonFormat.Printer JSON_OUT = JsonFormat.printer().omittingInsignificantWhitespace()
        .alwaysPrintFieldsWithNoPresence();

    private static final int TAG_EVENT = 0x0A;
    private static final int TAG_BATCH = 0x12;
    private static final int TAG_CAUGHT_UP = 0x18;
    private static final int TAG_CHECKPOINT = 0x20;
    private static final int TAG_RETRY_COUNT = 0x10;

    private MessageCodec() {
    }

    // ------------------------------------------------------------------------------------------ messages

    /** Decodes a request message; empty data is the empty message. Fails with {@code INVALID_ARGUMENT}. */
    @SuppressWarnings("unchecked")
    public static <T extends Message> T decode(WireFormat format, ByteBuf data, T prototype, String what) {
        if (data == null || !data.isReadable()) {
            return prototype;
        }
        try {
            if (format == WireFormat.PROTOBUF) {
                return (T) prototype.getParserForType().parseFrom(data.nioBuffer());
            }
            String json = data.toString(StandardCharsets.UTF_8);
            if (json.isBlank()) {
                return prototype;
            }
            Message.Builder builder = prototype.newBuilderForType();
            JSON_IN.merge(json, builder);
            return (T) builder.build();
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw notValid(format, what, prototype.getDescriptorForType(), e);
        }
    }

    /** The refusal of data that is not a valid {@code type} in {@code format}: what {@link #decode} throws. */
    public static ReelException notValid(WireFormat format, String what, com.google.protobuf.Descriptors.Descriptor type, Exception e) {
        return new ReelException(ErrorCode.INVALID_ARGUMENT, "the data of " + what + " is not a valid " + type.getFullName() + " in "
            + format.mimeType() + ": " + e.getMessage());
    }

    static Payload payload(WireFormat format, Message message) {
        return ByteBufPayload.create(encodeDirect(format, message));
    }

    /**
     * {@code message} encoded into a pooled direct buffer, which the socket writes as it is. Data in a heap array
     * is copied twice more on its way out: Netty merges the frame's header and the array into one heap buffer,
     * then copies that into a direct one. The caller owns the buffer (a {@code Payload} made of it releases it).
     */
    public static ByteBuf encodeDirect(WireFormat format, Message message) {
        if (format != WireFormat.PROTOBUF) {
            byte[] json = encode(format, message);
            return ByteBufAllocator.DEFAULT.directBuffer(json.length).writeBytes(json);
        }
        int size = message.getSerializedSize();
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(size);
        try {
            CodedOutputStream out = CodedOutputStream.newInstance(buf.nioBuffer(0, size));
            message.writeTo(out);
            out.checkNoSpaceLeft();
            return buf.writerIndex(size);
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw new IllegalStateException("cannot encode " + message.getDescriptorForType().getFullName(), e);
        }
    }

    public static byte[] encode(WireFormat format, Message message) {
        if (format == WireFormat.PROTOBUF) {
            return message.toByteArray();
        }
        try {
            return JSON_OUT.print(message).getBytes(StandardCharsets.UTF_8);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print " + message.getDescriptorForType().getFullName() + " as JSON", e);
        }
    }

    // ----------------------------------------------------------------------------- records (server side)

    /** One {@code EventRecord} payload. */
    static Payload record(WireFormat format, RecordedEvent record) {
        if (format == WireFormat.PROTOBUF) {
            return ByteBufPayload.create(ByteBufAllocator.DEFAULT.directBuffer(record.encodedLength()).writeBytes(record.encoded()));
        }
        return payload(format, parseRecord(record));
    }

    /** One {@code EventBatch} payload, or with {@code item} a {@code SubscriptionItem} holding it. */
    static Payload batch(WireFormat format, List<RecordedEvent> records, boolean item) {
        if (format == WireFormat.JSON) {
            EventBatch.Builder b = EventBatch.newBuilder();
            for (RecordedEvent r : records) {
                b.addRecords(parseRecord(r));
            }
            return payload(format, item ? SubscriptionItem.newBuilder().setBatch(b).build() : b.build());
        }
        int batchSize = 0;
        for (RecordedEvent r : records) {
            batchSize += 1 + varintSize(r.encodedLength()) + r.encodedLength();
        }
        int size = item ? 1 + varintSize(batchSize) + batchSize : batchSize;
        ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(size);
        if (item) {
            buf.writeByte(TAG_BATCH);
            writeVarint(buf, batchSize);
        }
        for (RecordedEvent r : records) {
            buf.writeByte(TAG_EVENT);
            writeVarint(buf, r.encodedLength());
            buf.writeBytes(r.encoded());
        }
        return ByteBufPayload.create(buf);
    }

    /** A {@code SubscriptionItem} payload for one subscription message. */
    static Payload item(WireFormat format, SubscriptionMessage message) {
        if (format == WireFormat.JSON) {
            SubscriptionItem.Builder b = SubscriptionItem.newBuilder();
            if (message instanceof SubscriptionMessage.Event e) {
                b.setEvent(parseRecord(e.event()));
            } else if (message instanceof SubscriptionMessage.CaughtUp c) {
                b.setCaughtUp(c.nextPosition());
            } else {
                b.setCheckpoint(message.nextPosition());
            }
            return payload(format, b.build());
        }
        ByteBuf buf;
        if (message instanceof SubscriptionMessage.Event e) {
            RecordedEvent r = e.event();
            buf = ByteBufAllocator.DEFAULT.buffer(1 + varintSize(r.encodedLength()) + r.encodedLength());
            buf.writeByte(TAG_EVENT);
            writeVarint(buf, r.encodedLength());
            buf.writeBytes(r.encoded());
        } else {
            buf = ByteBufAllocator.DEFAULT.buffer(11);
            buf.writeByte(message instanceof SubscriptionMessage.CaughtUp ? TAG_CAUGHT_UP : TAG_CHECKPOINT);
            writeVarint(buf, message.nextPosition());
        }
        return ByteBufPayload.create(buf);
    }

    /** One {@code GroupDelivery} payload: the stored record and how often it was delivered before. */
    public static Payload delivery(WireFormat format, RecordedEvent record, int retryCount) {
        if (format == WireFormat.JSON) {
            return payload(format, GroupDelivery.newBuilder().setRecord(parseRecord(record)).setRetryCount(retryCount).build());
        }
        int size = 1 + varintSize(record.encodedLength()) + record.encodedLength() + (retryCount == 0 ? 0 : 1 + varintSize(retryCount));
        ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(size);
        buf.writeByte(TAG_EVENT);
        writeVarint(buf, record.encodedLength());
        buf.writeBytes(record.encoded());
        if (retryCount != 0) {
            buf.writeByte(TAG_RETRY_COUNT);
            writeVarint(buf, retryCount);
        }
        return ByteBufPayload.create(buf);
    }

    private static EventRecord parseRecord(RecordedEvent record) {
        try {
            return EventRecord.parseFrom(record.encoded());
        } catch (InvalidProtocolBufferException e) {
            throw new ReelException(ErrorCode.CORRUPTED, "a stored EventRecord at position " + record.position()
                + " does not decode: " + e.getMessage() + "; run 'reel verify' on the data directory");
        }
    }

    // ----------------------------------------------------------------------------- records (client side)

    /** The records of a read payload: an {@code EventRecord}, or with {@code batch} an {@code EventBatch}. */
    public static List<RecordedEvent> records(WireFormat format, ByteBuf data, boolean batch) {
        try {
            if (format == WireFormat.JSON) {
                String json = data.toString(StandardCharsets.UTF_8);
                List<RecordedEvent> out = new ArrayList<>();
                if (batch) {
                    EventBatch.Builder b = EventBatch.newBuilder();
                    JSON_IN.merge(json, b);
                    for (EventRecord r : b.getRecordsList()) {
                        out.add(RecordedEvent.fromEncoded(r.toByteArray()));
                    }
                } else {
                    EventRecord.Builder b = EventRecord.newBuilder();
                    JSON_IN.merge(json, b);
                    out.add(RecordedEvent.fromEncoded(b.build().toByteArray()));
                }
                return out;
            }
            if (!batch) {
                byte[] bytes = ByteBufUtil.getBytes(data);
                return List.of(RecordedEvent.fromEncoded(bytes, 0, bytes.length));
            }
            byte[] bytes = ByteBufUtil.getBytes(data);
            return batchRecords(bytes, 0, bytes.length);
        } catch (IOException | RuntimeException e) {
            throw unreadable(e);
        }
    }

    /** The messages of a {@code SubscriptionItem} payload. */
    public static List<SubscriptionMessage> items(WireFormat format, ByteBuf data) {
        try {
            if (format == WireFormat.JSON) {
                SubscriptionItem.Builder b = SubscriptionItem.newBuilder();
                JSON_IN.merge(data.toString(StandardCharsets.UTF_8), b);
                SubscriptionItem item = b.build();
                return switch (item.getItemCase()) {
                    case EVENT -> List.of(new SubscriptionMessage.Event(RecordedEvent.fromEncoded(item.getEvent().toByteArray())));
                    case BATCH -> {
                        List<SubscriptionMessage> out = new ArrayList<>(item.getBatch().getRecordsCount());
                        for (EventRecord r : item.getBatch().getRecordsList()) {
                            out.add(new SubscriptionMessage.Event(RecordedEvent.fromEncoded(r.toByteArray())));
                        }
                        yield out;
                    }
                    case CAUGHT_UP -> List.of(new SubscriptionMessage.CaughtUp(item.getCaughtUp()));
                    case CHECKPOINT -> List.of(new SubscriptionMessage.Checkpoint(item.getCheckpoint()));
                    case ITEM_NOT_SET -> List.of();
                };
            }
            byte[] bytes = ByteBufUtil.getBytes(data);
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            List<SubscriptionMessage> out = new ArrayList<>();
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                switch (tag) {
                    case TAG_EVENT, TAG_BATCH -> {
                        int length = in.readRawVarint32();
                        int at = in.getTotalBytesRead();
                        if (tag == TAG_EVENT) {
                            out.add(new SubscriptionMessage.Event(RecordedEvent.fromEncoded(bytes, at, length)));
                        } else {
                            for (RecordedEvent r : batchRecords(bytes, at, at + length)) {
                                out.add(new SubscriptionMessage.Event(r));
                            }
                        }
                        in.skipRawBytes(length);
                    }
                    case TAG_CAUGHT_UP -> out.add(new SubscriptionMessage.CaughtUp(in.readUInt64()));
                    case TAG_CHECKPOINT -> out.add(new SubscriptionMessage.Checkpoint(in.readUInt64()));
                    default -> in.skipField(tag);
                }
            }
            return out;
        } catch (IOException | RuntimeException e) {
            throw unreadable(e);
        }
    }

    /** A delivery as the client sees it: the record and its retry count. */
    public record ReceivedDelivery(RecordedEvent record, int retryCount) {
    }

    /** The delivery of a {@code GroupDelivery} payload. */
    public static ReceivedDelivery delivery(WireFormat format, ByteBuf data) {
        try {
            if (format == WireFormat.JSON) {
                GroupDelivery.Builder b = GroupDelivery.newBuilder();
                JSON_IN.merge(data.toString(StandardCharsets.UTF_8), b);
                return new ReceivedDelivery(RecordedEvent.fromEncoded(b.getRecord().toByteArray()), b.getRetryCount());
            }
            CodedInputStream in = CodedInputStream.newInstance(data.nioBuffer());
            byte[] record = null;
            int retryCount = 0;
            while (!in.isAtEnd()) {
                int tag = in.readTag();
                switch (tag) {
                    case TAG_EVENT -> record = in.readByteArray();
                    case TAG_RETRY_COUNT -> retryCount = in.readUInt32();
                    default -> in.skipField(tag);
                }
            }
            if (record == null) {
                throw new IOException("a GroupDelivery without a record");
            }
            return new ReceivedDelivery(RecordedEvent.fromEncoded(record), retryCount);
        } catch (IOException | RuntimeException e) {
            throw unreadable(e);
        }
    }

    /**
     * The records of an {@code EventBatch} at {@code [offset, end)} of {@code buf}, as views into it: one copy
     * per received payload, none per record.
     */
    private static List<RecordedEvent> batchRecords(byte[] buf, int offset, int end) throws IOException {
        List<RecordedEvent> out = new ArrayList<>();
        CodedInputStream in = CodedInputStream.newInstance(buf, offset, end - offset);
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            if (tag == TAG_EVENT) {
                int length = in.readRawVarint32();
                int at = offset + in.getTotalBytesRead();
                out.add(RecordedEvent.fromEncoded(buf, at, length));
                in.skipRawBytes(length);
            } else {
                in.skipField(tag);
            }
        }
        return out;
    }


    private static ReelException unreadable(Exception e) {
        return new ReelException(ErrorCode.INTERNAL, "a payload from the server does not decode: " + e.getMessage(), e);
    }

    // ---------------------------------------------------------------------------------------- varints

    static int varintSize(long value) {
        int size = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            size++;
        }
        return size;
    }

    static void writeVarint(ByteBuf buf, long value) {
        while ((value & ~0x7FL) != 0) {
            buf.writeByte((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        buf.writeByte((int) value);
    }
}
