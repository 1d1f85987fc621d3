package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import io.reel.proto.StoreInfo;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Bytes that are not RSocket close that socket only; the server and its other clients go on. */
@Timeout(60)
class GarbageTest {
    @TempDir
    Path dir;
    ServerFixture fixture;
    RawClient bystander;

    @BeforeEach
    void start() {
        fixture = new ServerFixture(dir, b -> b.setupTimeout(Duration.ofSeconds(1)));
        bystander = RawClient.connect(fixture.server, RawClient.Kind.TCP, WireContractTest.PROTOBUF);
    }

    @AfterEach
    void stop() {
        bystander.close();
        fixture.close();
    }

    /** Sends the bytes and reads until the server closes the socket; returns what it answered. */
    static byte[] sendUntilClosed(InetSocketAddress address, byte[] garbage) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(address, 5000);
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            try {
                socket.getOutputStream().write(garbage);
                socket.getOutputStream().flush();
            } catch (SocketException closedEarly) {
                return new byte[0];
            }
            InputStream in = socket.getInputStream();
            try {
                return in.readAllBytes();
            } catch (SocketException reset) {
                return new byte[0];
            }
        }
    }

    void everyoneElseGoesOn() {
        StoreInfo info = WireContractTest.parse(StoreInfo.parser(), bystander.call("info", new byte[0]).block(TIMEOUT));
        assertThat(info.getHead()).isZero();
        try (RawClient newcomer = RawClient.connect(fixture.server, RawClient.Kind.WEBSOCKET, WireContractTest.JSON)) {
            assertThat(RawClient.text(newcomer.call("info", new byte[0]).block(TIMEOUT))).startsWith("{");
        }
    }

    @Test
    void anHttpRequestOnTheRSocketPortIsClosedAfterTheSetupTimeout() throws IOException {
        sendUntilClosed(fixture.server.tcpAddress(), "GET / HTTP/1.1\r\nHost: reel\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        everyoneElseGoesOn();
    }

    @Test
    void aFrameThatIsNotASetupIsAnsweredWithAnErrorAndClosed() throws IOException {
        byte[] requestN = {0, 0, 10, 0, 0, 0, 1, 0x20, 0, 0, 0, 0, 5};
        byte[] answer = sendUntilClosed(fixture.server.tcpAddress(), requestN);
        assertThat(answer.length).isGreaterThan(9);
        assertThat(answer[3 + 4] >>> 2).as("frame type ERROR").isEqualTo(0x0B);
        everyoneElseGoesOn();
    }

    @Test
    void randomBytesCloseThatSocketOnly() throws IOException {
        Random random = new Random(42);
        for (int i = 0; i < 3; i++) {
            byte[] garbage = new byte[1 + random.nextInt(64 * 1024)];
            random.nextBytes(garbage);
            sendUntilClosed(fixture.server.tcpAddress(), garbage);
        }
        sendUntilClosed(fixture.server.webSocketAddress(), "\u0016\u0003\u0001 not a websocket upgrade\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        everyoneElseGoesOn();
    }
}
