package io.reel.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A plain HTTP client for the tests: GET a path of a server, get status, content type and body. */
final class Http {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    record Response(int status, String contentType, String body) {
    }

    private Http() {
    }

    /**
     * GET {@code target} sent byte for byte over a socket, for what {@link HttpClient} refuses to send (a bad
     * percent-encoding); fails when the server closes the connection without an answer.
     */
    static Response raw(String hostPort, String target) {
        int colon = hostPort.lastIndexOf(':');
        try (Socket socket = new Socket(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)))) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: " + hostPort + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int end = answer.indexOf("\r\n\r\n");
            if (!answer.startsWith("HTTP/1.1 ") || end < 0) {
                throw new AssertionError("no HTTP answer to GET " + target + ", the server sent: '" + answer + "'");
            }
            String contentType = "";
            boolean chunked = false;
            for (String line : answer.substring(0, end).split("\r\n")) {
                String lower = line.toLowerCase(java.util.Locale.ROOT);
                contentType = lower.startsWith("content-type:") ? line.substring(13).trim() : contentType;
                chunked |= lower.startsWith("transfer-encoding:") && lower.contains("chunked");
            }
            String body = answer.substring(end + 4);
            return new Response(Integer.parseInt(answer.substring(9, 12)), contentType, chunked ? dechunked(body) : body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String dechunked(String body) {
        StringBuilder out = new StringBuilder();
        int at = 0;
        while (true) {
            int line = body.indexOf("\r\n", at);
            int size = Integer.parseInt(body.substring(at, line).trim(), 16);
            if (size == 0) {
                return out.toString();
            }
            out.append(body, line + 2, line + 2 + size);
            at = line + 2 + size + 2;
        }
    }

    static Response get(String hostPort, String path) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + hostPort + path)).timeout(Duration.ofSeconds(30)).GET().build();
        try {
            HttpResponse<String> r = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.headers().firstValue("content-type").orElse(""), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
