package io.reel.transport;

import static io.reel.transport.ServerFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reel.store.EventData;
import io.reel.store.ExpectedRevision;
import io.reel.store.ReelException;
import io.reel.store.SubscribeOptions;
import io.reel.store.SubscriptionMessage;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.test.StepVerifier;

/** TLS on both listeners, with a self-signed certificate made by the JDK's keytool for this test. */
@Timeout(60)
class TlsTest {
    @TempDir
    static Path dir;
    static Path certificate;
    static Path privateKey;
    static ServerFixture fixture;

    @BeforeAll
    static void start() throws Exception {
        Path keystore = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
            "-genkeypair", "-alias", "reel", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=localhost",
            "-ext", "san=dns:localhost,ip:127.0.0.1", "-keystore", keystore.toString(), "-storetype", "PKCS12",
            "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(output).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(keystore.toFile())) {
            ks.load(in, "changeit".toCharArray());
        }
        Certificate cert = ks.getCertificate("reel");
        Key key = ks.getKey("reel", "changeit".toCharArray());
        certificate = dir.resolve("server.crt");
        privateKey = dir.resolve("server.key");
        Files.writeString(certificate, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(privateKey, pem("PRIVATE KEY", key.getEncoded()));
        fixture = new ServerFixture(dir.resolve("data"), b -> b.tls(certificate, privateKey));
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    ClientSettings.Builder settings(ClientSettings.Transport transport) {
        int port = transport == ClientSettings.Transport.TCP ? fixture.server.tcpAddress().getPort()
            : fixture.server.webSocketAddress().getPort();
        return ClientSettings.builder().transport(transport).port(port).requestTimeout(TIMEOUT);
    }

    @ParameterizedTest
    @EnumSource(ClientSettings.Transport.class)
    void aClientThatTrustsTheCertificateTalksOverTls(ClientSettings.Transport transport) {
        try (ReelClient client = ReelClient.connect(settings(transport).tls(true, certificate).build()).block(TIMEOUT)) {
            long position = client.append("tls-" + transport, ExpectedRevision.ANY, EventData.json("T", "{}")).block(TIMEOUT).lastPosition();
            StepVerifier.create(client.subscribe(SubscribeOptions.fromPosition(position)).take(1))
                .assertNext(m -> assertThat(((SubscriptionMessage.Event) m).event().stream()).isEqualTo("tls-" + transport))
                .verifyComplete();
        }
    }

    @ParameterizedTest
    @EnumSource(ClientSettings.Transport.class)
    void plainOrUntrustingClientsGetNowhere(ClientSettings.Transport transport) {
        Duration patience = Duration.ofSeconds(1);
        assertThatThrownBy(() -> ReelClient.connect(settings(transport).requestTimeout(patience).build()).block(TIMEOUT))
            .isInstanceOf(ReelException.class);
        // a failed handshake is not retried and answers at once; the patience only keeps a slow one on a loaded machine
        // from ending as a timeout, whose message does not name SSL
        assertThatThrownBy(() -> ReelClient.connect(settings(transport).requestTimeout(Duration.ofSeconds(8)).tls(true, null).build()).block(TIMEOUT))
            .isInstanceOf(ReelException.class).hasMessageContaining("SSL");
    }

    @Test
    void badCertificateFilesAreReportedBeforeAnythingBinds() throws IOException {
        Path notPem = dir.resolve("not.pem");
        Files.writeString(notPem, "hello");
        ServerSettings settings = ServerSettings.builder().tcpPort(0).webSocketPort(0).tls(notPem, notPem).build();
        assertThatThrownBy(() -> ReelServer.start(fixture.store, settings)).isInstanceOf(ReelException.class)
            .hasMessageStartingWith("INVALID_ARGUMENT: cannot load the TLS certificate");
        assertThatThrownBy(() -> ServerSettings.builder().tls(certificate, null).build()).isInstanceOf(ReelException.class)
            .hasMessageContaining("needs both a certificate and a private key");
    }
}
