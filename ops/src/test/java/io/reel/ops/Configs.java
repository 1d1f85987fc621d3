package io.reel.ops;

import io.reel.store.Durability;
import java.nio.file.Path;

/** Server configurations for in-process tests: every listener on a free port of 127.0.0.1, no tokens, no TLS. */
final class Configs {
    private Configs() {
    }

    static ServerRuntime.Config onFreePorts(Path data, Durability durability, long segmentSize) {
        return new ServerRuntime.Config(data, "127.0.0.1", 0, 0, 0, durability, segmentSize, null, null, null, false);
    }
}
