package io.reel.transport.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.reel.proto.Expectation;
import io.reel.store.AppendResult;
import io.reel.store.ErrorCode;
import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.wire.UuidText;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The protobuf encoding of an {@code AppendRequest}, written straight from the client's {@link EventData} with
 * protobuf's own {@link CodedOutputStream}: the same bytes the generated message writes (fields in number order,
 * empty strings and bytes left out, the {@code expected} oneof always present), without building an
 * {@code AppendRequest} and its {@code EventData} messages, the event id's text as a {@code String}, or copies
 * of data and metadata into {@code ByteString}s first. An append is encoded once, on the caller's thread; a
 * batch ({@code AppendBatch}: field 1, repeated) is the encoded appends one after the other.
 *
 * <p>The server's side of {@code append.batch} over protobuf the same way: {@link #decodeBatch} reads an
 * {@code AppendBatch} straight into the store's {@link EventData} (the checks and sentences of the generated
 * parser and of the {@code append} route), and {@link #encodeOutcomes} writes the {@code AppendBatchResult}.
 */
public final class AppendEncoding {
    private static final int REQUEST_STREAM = io.reel.proto.AppendRequest.STREAM_FIELD_NUMBER;
    private static final int REQUEST_EXPECTATION = io.reel.proto.AppendRequest.EXPECTATION_FIELD_NUMBER;
    private static final int REQUEST_REVISION = io.reel.proto.AppendRequest.REVISION_FIELD_NUMBER;
    private static final int REQUEST_EVENTS = io.reel.proto.AppendRequest.EVENTS_FIELD_NUMBER;
    private static final int EVENT_ID = io.reel.proto.EventData.EVENT_ID_FIELD_NUMBER;
    private static final int EVENT_TYPE = io.reel.proto.EventData.TYPE_FIELD_NUMBER;
    private static final int EVENT_CONTENT_TYPE = io.reel.proto.EventData.CONTENT_TYPE_FIELD_NUMBER;
    private static final int EVENT_DATA = io.reel.proto.EventData.DATA_FIELD_NUMBER;
    private static final int EVENT_METADATA = io.reel.proto.EventData.METADATA_FIELD_NUMBER;
    private static final int BATCH_APPENDS = io.reel.proto.AppendBatch.APPENDS_FIELD_NUMBER;
    private static final int BATCH_OUTCOMES = io.reel.proto.AppendBatchResult.OUTCOMES_FIELD_NUMBER;
    private static final int OUTCOME_RESULT = io.reel.proto.AppendOutcome.RESULT_FIELD_NUMBER;
    private static final int OUTCOME_ERROR = io.reel.proto.AppendOutcome.ERROR_FIELD_NUMBER;
    private static final int RESULT_FIRST = io.reel.proto.AppendResult.FIRST_POSITION_FIELD_NUMBER;
    private static final int RESULT_LAST = io.reel.proto.AppendResult.LAST_POSITION_FIELD_NUMBER;
    private static final int RESULT_NEXT = io.reel.proto.AppendResult.NEXT_EXPECTED_REVISION_FIELD_NUMBER;
    private static final int ERROR_CODE = io.reel.proto.Error.CODE_FIELD_NUMBER;
    private static final int ERROR_MESSAGE = io.reel.proto.Error.MESSAGE_FIELD_NUMBER;
    private static final byte[] EMPTY = new byte[0];
    private static final String[] CONTENT_TYPES = {EventData.OCTET_STREAM, EventData.JSON, EventData.PROTOBUF};
    private static final byte[][] CONTENT_TYPES_UTF8 = {EventData.OCTET_STREAM.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        EventData.JSON.getBytes(java.nio.charset.StandardCharsets.UTF_8), EventData.PROTOBUF.getBytes(java.nio.charset.StandardCharsets.UTF_8)};

    private AppendEncoding() {
    }

    /** The encoded {@code AppendRequest} of an append of {@code events} to {@code stream}. */
    public static byte[] request(String stream, ExpectedRevision expected, List<EventData> events) {
        byte[] streamUtf8 = stream.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int[] eventSizes = new int[events.size()];
        int size = bytesSize(REQUEST_STREAM, streamUtf8.length) + expectedSize(expected);
        for (int i = 0; i < events.size(); i++) {
            EventData e = events.get(i);
            int eventSize = CodedOutputStream.computeTagSize(EVENT_ID) + 1 + UuidText.LENGTH
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
            byte[] id = new byte[UuidText.LENGTH];
            for (int i = 0; i < events.size(); i++) {
                EventData e = events.get(i);
                o.writeTag(REQUEST_EVENTS, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                o.writeUInt32NoTag(eventSizes[i]);
                UuidText.write(id, 0, e.eventId().getMostSignificantBits(), e.eventId().getLeastSignificantBits());
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

    /**
     * The most bytes the outcome of an append to {@code stream} takes in an {@code append.batch} answer, in either
     * format: a result, or a code and a sentence that names the stream at most twice, with numbers (the server
     * refuses a batch whose answer could exceed its frame limit; the client sizes its batches by this too).
     */
    public static int outcomeBound(String stream) {
        return 6 * stream.length() + 512;
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

    /** One append of a decoded batch: what {@code store.append} takes. */
    public record Append(String stream, ExpectedRevision expected, List<EventData> events) {
    }

    /**
     * The appends of a protobuf {@code AppendBatch}, in order: each an {@link Append}, or the {@link ReelException}
     * that the {@code append} route would have answered it with (a bad id, an empty type, an unknown expectation),
     * bounded by what a hostile request could make the server hold: more than
     * {@code maxAppends} appends fail the batch with {@code TOO_LARGE} at once (their answer could not fit a frame), and
     * an append's events are decoded only up to its first invalid one and up to {@code maxEventsPerAppend} (past it,
     * the append fails with {@code TOO_LARGE} as the {@code append} route's would); the rest is checked, not built.
     *
     * @throws InvalidProtocolBufferException when the bytes are not an {@code AppendBatch} at all
     */
    public static List<Object> decodeBatch(ByteBuf data, int maxAppends, int maxEventsPerAppend) throws InvalidProtocolBufferException {
        return repeated(data, BATCH_APPENDS, maxAppends, in -> decodeAppend(in, maxEventsPerAppend));
    }

    /** Reads one embedded message, its limits already pushed. */
    private interface Element {
        Object read(CodedInputStream in) throws IOException;
    }

    /**
     * The elements of a message's one repeated message field {@code field}, in order, each read by {@code element};
     * other fields are skipped, as the generated parser skips unknown ones.
     */
    private static List<Object> repeated(ByteBuf data, int field, Element element) throws InvalidProtocolBufferException {
        return repeated(data, field, Integer.MAX_VALUE, element);
    }

    private static List<Object> repeated(ByteBuf data, int field, int maxElements, Element element) throws InvalidProtocolBufferException {
        List<Object> elements = new ArrayList<>();
        if (data == null || !data.isReadable()) {
            return elements;
        }
        try {
            CodedInputStream in = CodedInputStream.newInstance(data.nioBuffer());
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (tag == lengthDelimited(field)) {
                    if (elements.size() == maxElements) {
                        throw tooManyAppends(maxElements);
                    }
                    int limit = in.pushLimit(in.readRawVarint32());
                    elements.add(element.read(in));
                    in.checkLastTagWas(0);
                    in.popLimit(limit);
                } else if (!in.skipField(tag)) {
                    break;
                }
            }
            in.checkLastTagWas(0);
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidProtocolBufferException(e);
        }
        return elements;
    }

    private static Object decodeAppend(CodedInputStream in, int maxEvents) throws IOException {
        String stream = "";
        boolean exact = false;
        long revision = 0;
        int expectation = 0;
        List<Object> events = new ArrayList<>(1);
        int count = 0;
        boolean skipping = false;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag) {
                case (REQUEST_STREAM << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> stream = readString(in);
                case REQUEST_EXPECTATION << 3 -> {
                    expectation = in.readEnum();
                    exact = false;
                }
                case REQUEST_REVISION << 3 -> {
                    revision = in.readUInt64();
                    exact = true;
                }
                case (REQUEST_EVENTS << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
                    int limit = in.pushLimit(in.readRawVarint32());
                    if (++count > maxEvents || skipping) {
                        // the append fails anyway: its other events are checked as the generated parser checks them, not
                        // built (a request of millions of two-byte events would otherwise make as many objects and errors)
                        skipping = true;
                        checkEvent(in);
                        in.checkLastTagWas(0);
                        in.popLimit(limit);
                        continue;
                    }
                    Object event = decodeEvent(in, events.size());
                    events.add(event);
                    skipping = event instanceof ReelException;
                    in.checkLastTagWas(0);
                    in.popLimit(limit);
                }
                default -> {
                    if (!in.skipField(tag)) {
                        return append(stream, exact, revision, expectation, events, count, maxEvents);
                    }
                }
            }
        }
        return append(stream, exact, revision, expectation, events, count, maxEvents);
    }

    private static Object append(String stream, boolean exact, long revision, int expectation, List<Object> decoded, int count, int maxEvents) {
        if (count > maxEvents) {
            // in the append route's order: the expectation, then the number of events, then each event
            Object expected = append(stream, exact, revision, expectation, List.of());
            return expected instanceof ReelException ? expected : tooManyEvents(stream, count, maxEvents);
        }
        return append(stream, exact, revision, expectation, decoded);
    }

    /** The error of an {@code append.batch} of more than {@code maxAppends} appends: it fails as a whole. */
    static ReelException tooManyAppends(int maxAppends) {
        return new ReelException(ErrorCode.TOO_LARGE, "the batch holds more than " + maxAppends + " appends, whose answers could not"
            + " fit the frame limit; send fewer appends per batch");
    }

    /** The error of an append of {@code count} events above {@code maxEvents}: the sentence of EventStore's own check. */
    static ReelException tooManyEvents(String stream, int count, int maxEvents) {
        return new ReelException(ErrorCode.TOO_LARGE, "the append to stream '" + stream + "' has " + count
            + " events; the limit is " + maxEvents + " per append (maxEventsPerAppend); split it");
    }

    private static Object append(String stream, boolean exact, long revision, int expectation, List<Object> decoded) {
        ExpectedRevision expected;
        try {
            Expectation e = Expectation.forNumber(expectation);
            expected = ConnectionResponder.expected(exact, revision, e == null ? Expectation.UNRECOGNIZED : e);
        } catch (ReelException invalid) {
            return invalid;
        }
        List<EventData> events = new ArrayList<>(decoded.size());
        for (Object o : decoded) {
            if (o instanceof ReelException invalid) {
                return invalid;
            }
            events.add((EventData) o);
        }
        return new Append(stream, expected, events);
    }

    /**
     * A string field, refused when it is not UTF-8 as the generated parser refuses it. The well-known content
     * types come back as the shared constants and ASCII through the JDK's Latin-1 copy: protobuf's byte-by-byte
     * UTF-8 decoder took 14% of the event loops' samples under 256 producers, most of it for the content type
     * that every event repeats.
     */
    private static String readString(CodedInputStream in) throws IOException {
        byte[] b = in.readByteArray();
        for (int i = 0; i < CONTENT_TYPES_UTF8.length; i++) {
            if (java.util.Arrays.equals(b, CONTENT_TYPES_UTF8[i])) {
                return CONTENT_TYPES[i];
            }
        }
        for (byte x : b) {
            if (x < 0) {
                return utf8(b);
            }
        }
        return new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** {@code b} as a string, refused as the generated parser refuses invalid UTF-8. */
    private static String utf8(byte[] b) throws InvalidProtocolBufferException {
        if (!com.google.protobuf.ByteString.copyFrom(b).isValidUtf8()) {
            throw new InvalidProtocolBufferException("Protocol message had invalid UTF-8.");
        }
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * Reads an {@code EventData} without building it, refusing what the generated parser refuses: a string field that
     * is not UTF-8, or bytes that are no message.
     */
    private static void checkEvent(CodedInputStream in) throws IOException {
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag) {
                case (EVENT_ID << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED,
                     (EVENT_TYPE << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED,
                     (EVENT_CONTENT_TYPE << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
                    if (!in.readBytes().isValidUtf8()) {
                        throw new InvalidProtocolBufferException("Protocol message had invalid UTF-8.");
                    }
                }
                default -> {
                    if (!in.skipField(tag)) {
                        return;
                    }
                }
            }
        }
    }

    /** An {@code EventData}, checked as the {@code append} route checks it; the exception when it fails. */
    private static Object decodeEvent(CodedInputStream in, int index) throws IOException {
        byte[] id = null;
        String type = "";
        String contentType = "";
        byte[] data = EMPTY;
        byte[] metadata = EMPTY;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag) {
                case (EVENT_ID << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> id = in.readByteArray();
                case (EVENT_TYPE << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> type = readString(in);
                case (EVENT_CONTENT_TYPE << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> contentType = readString(in);
                case (EVENT_DATA << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> data = in.readByteArray();
                case (EVENT_METADATA << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> metadata = in.readByteArray();
                default -> {
                    if (!in.skipField(tag)) {
                        return event(index, id, type, contentType, data, metadata);
                    }
                }
            }
        }
        return event(index, id, type, contentType, data, metadata);
    }

    private static Object event(int index, byte[] idText, String type, String contentType, byte[] data, byte[] metadata)
        throws InvalidProtocolBufferException {
        UUID id = idText == null ? null : UuidText.parse(idText, 0, idText.length);
        String text = "";
        if (id == null && idText != null) {
            text = utf8(idText);
        }
        try {
            return ConnectionResponder.event(index, id, text, type, contentType, data, metadata);
        } catch (ReelException invalid) {
            return invalid;
        }
    }

    /**
     * The protobuf {@code AppendBatchResult} of outcomes in order, each an {@code AppendResult} or the
     * {@code Error} {@code errorOf} gives for a failure, in a pooled direct buffer.
     */
    public static ByteBuf encodeOutcomes(Object[] outcomes, java.util.function.Function<Throwable, io.reel.proto.Error> errorOf) {
        int[] sizes = new int[outcomes.length];
        byte[][] texts = new byte[outcomes.length * 2][];
        int size = 0;
        for (int i = 0; i < outcomes.length; i++) {
            int inner;
            if (outcomes[i] instanceof AppendResult r) {
                inner = resultSize(r);
                inner += CodedOutputStream.computeTagSize(OUTCOME_RESULT) + CodedOutputStream.computeUInt32SizeNoTag(inner);
            } else {
                io.reel.proto.Error e = errorOf.apply((Throwable) outcomes[i]);
                texts[2 * i] = e.getCode().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                texts[2 * i + 1] = e.getMessage().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                inner = bytesSize(ERROR_CODE, texts[2 * i].length) + bytesSize(ERROR_MESSAGE, texts[2 * i + 1].length);
                inner += CodedOutputStream.computeTagSize(OUTCOME_ERROR) + CodedOutputStream.computeUInt32SizeNoTag(inner);
            }
            sizes[i] = inner;
            size += CodedOutputStream.computeTagSize(BATCH_OUTCOMES) + CodedOutputStream.computeUInt32SizeNoTag(inner) + inner;
        }
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(size);
        try {
            CodedOutputStream o = CodedOutputStream.newInstance(buf.nioBuffer(0, size));
            for (int i = 0; i < outcomes.length; i++) {
                o.writeTag(BATCH_OUTCOMES, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                o.writeUInt32NoTag(sizes[i]);
                if (outcomes[i] instanceof AppendResult r) {
                    o.writeTag(OUTCOME_RESULT, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                    o.writeUInt32NoTag(resultSize(r));
                    writeUInt64(o, RESULT_FIRST, r.firstPosition());
                    writeUInt64(o, RESULT_LAST, r.lastPosition());
                    writeUInt64(o, RESULT_NEXT, r.nextExpectedRevision());
                } else {
                    o.writeTag(OUTCOME_ERROR, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                    o.writeUInt32NoTag(bytesSize(ERROR_CODE, texts[2 * i].length) + bytesSize(ERROR_MESSAGE, texts[2 * i + 1].length));
                    writeBytes(o, ERROR_CODE, texts[2 * i]);
                    writeBytes(o, ERROR_MESSAGE, texts[2 * i + 1]);
                }
            }
            o.checkNoSpaceLeft();
            return buf.writerIndex(size);
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw new IllegalStateException("cannot encode an AppendBatchResult", e);
        }
    }

    /**
     * The outcomes of a protobuf {@code AppendBatchResult}, in order: each an {@link AppendResult}, or the
     * {@link ReelException} its {@code Error} stands for.
     */
    public static Object[] decodeOutcomes(ByteBuf data) throws InvalidProtocolBufferException {
        return repeated(data, BATCH_OUTCOMES, AppendEncoding::decodeOutcome).toArray();
    }

    private static Object decodeOutcome(CodedInputStream in) throws IOException {
        Object outcome = null;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag == lengthDelimited(OUTCOME_RESULT)) {
                outcome = io.reel.store.wire.ProtoMapping.fromProto(in.readMessage(io.reel.proto.AppendResult.parser(), EXTENSIONS));
            } else if (tag == lengthDelimited(OUTCOME_ERROR)) {
                outcome = io.reel.store.wire.ProtoMapping.fromProto(in.readMessage(io.reel.proto.Error.parser(), EXTENSIONS));
            } else if (!in.skipField(tag)) {
                break;
            }
        }
        // an outcome with neither (a newer server's kind of outcome) is not a success: nothing says where it was written
        return outcome != null ? outcome : new ReelException(io.reel.store.ErrorCode.INTERNAL,
            "the server answered an append with an outcome that holds neither a result nor an error; whether it was written is not known");
    }

    private static final com.google.protobuf.ExtensionRegistryLite EXTENSIONS = com.google.protobuf.ExtensionRegistryLite.getEmptyRegistry();

    private static int resultSize(AppendResult r) {
        return uint64Size(RESULT_FIRST, r.firstPosition()) + uint64Size(RESULT_LAST, r.lastPosition())
            + uint64Size(RESULT_NEXT, r.nextExpectedRevision());
    }

    /** A proto3 uint64 field: left out when 0. */
    private static int uint64Size(int field, long value) {
        return value == 0 ? 0 : CodedOutputStream.computeUInt64Size(field, value);
    }

    private static void writeUInt64(CodedOutputStream o, int field, long value) throws IOException {
        if (value != 0) {
            o.writeUInt64(field, value);
        }
    }

    private static int lengthDelimited(int field) {
        return (field << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    }

    /** The wire expectation of an expected revision that is not exact. */
    public static Expectation expectation(ExpectedRevision expected) {
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
}
