package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static io.reel.transport.ServerFixture.assertFails;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.reel.proto.AppendRequest;
import io.reel.proto.DeleteStreamRequest;
import io.reel.proto.EventData;
import io.reel.proto.ReadAllRequest;
import io.reel.proto.StreamMetadata;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.transport.internal.MetadataCodec;
import io.reel.transport.internal.Role;
import io.reel.transport.internal.TokenFile;
import io.rsocket.exceptions.RejectedSetupException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/** Bearer tokens from a tokens file: who may connect, and what each role may do. */
@Timeout(60)
class AuthTest {
    static final String PROTOBUF = WireContractTest.PROTOBUF;

    @TempDir
    Path dir;
    ServerFixture fixture;

    @BeforeEach
    void start() throws IOException {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, """
            # who may talk to this server
            reader-token   read
            writer-token\twrite   # a comment after the pair
            admin-token admin
            """);
        fixture = new ServerFixture(dir.resolve("data"), b -> b.tokensFile(tokens));
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    RawClient connect(String token) {
        return RawClient.connect(fixture.server, RawClient.Kind.TCP, PROTOBUF, RawClient.COMPOSITE,
            token == null ? null : RawClient.bearer(token), 0);
    }

    static byte[] append(String stream) {
        return AppendRequest.newBuilder().setStream(stream).addEvents(EventData.newBuilder().setType("T")
            .setData(ByteString.copyFromUtf8("x"))).build().toByteArray();
    }

    static void assertRejectedSetup(RawClient client, String start) {
        StepVerifier.create(client.call("info", new byte[0])).expectErrorSatisfies(e -> assertThat(e)
            .isInstanceOf(RejectedSetupException.class).hasMessageStartingWith(start)).verify(TIMEOUT);
    }

    @Test
    void aSetupWithoutAValidTokenIsRejected() {
        try (RawClient none = connect(null); RawClient wrong = connect("guess")) {
            assertRejectedSetup(none, "UNAUTHORIZED: this server requires a bearer token");
            assertRejectedSetup(wrong, "UNAUTHORIZED: the bearer token is not one this server knows");
        }
        try (RawClient basic = RawClient.connect(fixture.server, RawClient.Kind.WEBSOCKET, PROTOBUF, RawClient.COMPOSITE,
            RawClient.concat(new byte[] {(byte) 0xFC, 0, 0, 3, (byte) 0x80, 0, 0}), 0)) {
            assertRejectedSetup(basic, "UNAUTHORIZED: the SETUP authentication is not a bearer token");
        }
        assertThat(fixture.rejected("UNAUTHORIZED")).isEqualTo(3);
        assertThat(fixture.server.connections()).isZero();
    }

    @Test
    void aReadTokenReadsButCannotAppend() {
        try (RawClient reader = connect("reader-token")) {
            assertFails(reader.call("append", append("s")), "UNAUTHORIZED");
            assertThat(reader.stream("read.all", ReadAllRequest.getDefaultInstance().toByteArray()).collectList().block(TIMEOUT)).isEmpty();
            assertThat(reader.call("info", new byte[0]).block(TIMEOUT)).isNotNull();
            assertThat(fixture.store.headPosition()).isZero();
        }
    }

    @Test
    void aWriteTokenAppendsButOnlyAnAdminDeletesOrChangesMetadata() {
        try (RawClient writer = connect("writer-token"); RawClient admin = connect("admin-token")) {
            writer.call("append", append("s")).block(TIMEOUT);
            assertFails(writer.call("stream.delete", DeleteStreamRequest.newBuilder().setStream("s").build().toByteArray()), "UNAUTHORIZED");
            assertFails(writer.call("stream.metadata.set", StreamMetadata.newBuilder().setStream("s").setMaxCount(1).build().toByteArray()),
                "UNAUTHORIZED");
            admin.call("append", append("s")).block(TIMEOUT);
            admin.call("stream.metadata.set", StreamMetadata.newBuilder().setStream("s").setMaxCount(1).build().toByteArray()).block(TIMEOUT);
            admin.call("stream.delete", DeleteStreamRequest.newBuilder().setStream("s").build().toByteArray()).block(TIMEOUT);
            assertThat(fixture.store.streamMetadata("s").block(TIMEOUT).softDeleted()).isTrue();
        }
    }

    @Test
    void theOlderBearerMimeTypeIsAcceptedToo() {
        byte[] legacy = RawClient.customEntry(MetadataCodec.LEGACY_BEARER, "writer-token".getBytes(StandardCharsets.UTF_8));
        try (RawClient writer = RawClient.connect(fixture.server, RawClient.Kind.TCP, PROTOBUF, RawClient.COMPOSITE, legacy, 0)) {
            writer.call("append", append("s")).block(TIMEOUT);
        }
    }

    @Test
    void reelClientCarriesItsToken() {
        ClientSettings.Builder settings = ClientSettings.builder().port(fixture.server.tcpAddress().getPort())
            .requestTimeout(Duration.ofSeconds(5));
        try (ReelClient reader = ReelClient.connect(settings.token("reader-token").build()).block(TIMEOUT)) {
            assertThatThrownBy(() -> reader.append("s", ExpectedRevision.ANY, io.reel.store.EventData.json("T", "{}")).block(TIMEOUT))
                .isInstanceOf(ReelException.class).hasMessageStartingWith("UNAUTHORIZED: route 'append.batch' needs a write token");
        }
        assertThatThrownBy(() -> ReelClient.connect(settings.token("guess").build()).block(TIMEOUT))
            .isInstanceOf(ReelException.class).hasMessageStartingWith("UNAUTHORIZED: ");
    }

    @Test
    void aKeepAliveSlowerThanTheServersTimeoutIsRejected() {
        fixture.close();
        fixture = new ServerFixture(dir.resolve("data"), b -> b.keepAliveTimeout(Duration.ofSeconds(3)));
        try (RawClient slow = RawClient.connect(fixture.server, RawClient.Kind.TCP, PROTOBUF, RawClient.COMPOSITE, null, 0,
            Duration.ofSeconds(5))) {
            assertRejectedSetup(slow, "INVALID_ARGUMENT: the SETUP asks for a keep-alive every 5000 ms");
        }
    }

    @Test
    void aTokensFileIsCheckedLineByLine() throws IOException {
        assertTokensFileFails("t1 read\nt2 writer\n", "line 2 names the role 'writer'");
        assertTokensFileFails("t1 read extra\n", "line 1 has 3 words");
        assertTokensFileFails("t1 read\n\nt1 admin\n", "line 3 repeats a token");
        assertTokensFileFails("# nobody\n", "has no tokens");
        assertThatThrownBy(() -> ServerSettings.builder().tokensFile(dir.resolve("missing")).build())
            .isInstanceOf(ReelException.class).hasMessageStartingWith("INVALID_ARGUMENT: cannot read the tokens file");
        Path file = dir.resolve("ok");
        Files.writeString(file, "a read\nb WRITE\nc admin # all\n");
        TokenFile tokens = TokenFile.load(file);
        assertThat(tokens.roleOf("a")).isEqualTo(Role.READ);
        assertThat(tokens.roleOf("b")).isEqualTo(Role.WRITE);
        assertThat(tokens.roleOf("c")).isEqualTo(Role.ADMIN);
        assertThat(tokens.roleOf("d")).isNull();
        assertThat(Role.ADMIN.grants(Role.WRITE)).isTrue();
        assertThat(Role.WRITE.grants(Role.READ)).isTrue();
        assertThat(Role.READ.grants(Role.WRITE)).isFalse();
    }

    void assertTokensFileFails(String content, String message) throws IOException {
        Path file = Files.createTempFile(dir, "tokens", "");
        Files.writeString(file, content);
        assertThatThrownBy(() -> TokenFile.load(file)).isInstanceOf(ReelException.class)
            .hasMessageStartingWith("INVALID_ARGUMENT: ").hasMessageContaining(message);
    }
}
