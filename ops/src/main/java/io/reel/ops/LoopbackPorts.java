package io.reel.ops;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for cluster nodes started on one machine ({@code reel bench cluster}, the multi-process tests), whose
 * Raft addresses must be known before any node runs.
 *
 * <p>A port the kernel hands out for {@code bind(0)} comes from the ephemeral range, the same range that every
 * outgoing connection takes its local port from: between choosing such a port and the node binding it, the
 * other nodes' first connection attempts can take it ({@code Address already in use}). These ports are chosen
 * below that range, where only an explicit bind can take them, checked free on the wildcard address (Ratis
 * binds it), and never handed out twice by one JVM.
 */
final class LoopbackPorts {
    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final int DEFAULT_EPHEMERAL_LOW = 32768;
    private static final int SPAN = 12_000;
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private LoopbackPorts() {
    }

    /** A port that is free now and that neither outgoing connections nor earlier calls will take. */
    static synchronized int next() throws IOException {
        int high = ephemeralLow();
        int low = Math.max(1024, high - SPAN);
        if (high - low < 100) {
            return kernelChosen();
        }
        int span = high - low;
        int start = ThreadLocalRandom.current().nextInt(span);
        for (int i = 0; i < span; i++) {
            int port = low + (start + i) % span;
            if (!HANDED_OUT.contains(port) && bindable(port)) {
                HANDED_OUT.add(port);
                return port;
            }
        }
        throw new IOException("no free port between " + low + " and " + high);
    }

    private static int ephemeralLow() {
        try {
            String[] range = Files.readString(EPHEMERAL_RANGE).trim().split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException e) {
            return DEFAULT_EPHEMERAL_LOW;
        }
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int kernelChosen() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            HANDED_OUT.add(s.getLocalPort());
            return s.getLocalPort();
        }
    }
}
