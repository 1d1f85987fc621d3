package io.reel.store;

import io.reel.store.internal.log.AtomicFiles;
import io.reel.store.internal.log.Bytes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Named checkpoints, each with an optional state, one file per name in a directory: what named subscriptions
 * and projections resume from. A save is atomic and durable when it returns (temporary file, force, rename,
 * force the directory) and self-verifying (CRC32C): a damaged file is reported and ignored, never trusted,
 * so its owner starts over instead of resuming from a wrong place.
 *
 * <pre>
 * File (in the envelope of magic "REELCHKP", version 1, size and CRC32C):
 *  name (u32 length + UTF-8) | position u64 | state (u32 length + bytes)
 * </pre>
 * Thread-safe; a name is written by one owner at a time.
 */
public final class CheckpointStore {
    private static final long MAGIC = 0x5245454C43484B50L;
    private static final int VERSION = 1;
    private static final String SUFFIX = ".chk";

    private final Path dir;

    /** A stored checkpoint: the next position to read and the state saved with it (empty when none). */
    public record Checkpoint(String name, long position, byte[] state) {
    }

    private CheckpointStore(Path dir) {
        this.dir = dir;
    }

    public static CheckpointStore open(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the checkpoint directory " + dir, e);
        }
        return new CheckpointStore(dir);
    }

    public Path directory() {
        return dir;
    }

    /** The checkpoint saved under {@code name}; empty when there is none or it is damaged (logged). */
    public Optional<Checkpoint> load(String name) {
        Path file = fileOf(name);
        try {
            byte[] payload = AtomicFiles.read(file, MAGIC, VERSION);
            if (payload == null) {
                return Optional.empty();
            }
            int nameLength = Bytes.getInt(payload, 0);
            String stored = new String(payload, 4, nameLength, StandardCharsets.UTF_8);
            long position = Bytes.getLong(payload, 4 + nameLength);
            int stateLength = Bytes.getInt(payload, 12 + nameLength);
            byte[] state = new byte[stateLength];
            System.arraycopy(payload, 16 + nameLength, state, 0, stateLength);
            if (!stored.equals(name)) {
                return Optional.empty();
            }
            return Optional.of(new Checkpoint(name, position, state));
        } catch (ReelException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            org.slf4j.LoggerFactory.getLogger(CheckpointStore.class)
                .warn("ignoring damaged checkpoint '{}' ({}): {}", name, file, e.getMessage());
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + file, e);
        }
    }

    /** Saves atomically and durably; returns once it is on disk. */
    public void save(String name, long position, byte[] state) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] s = state == null ? new byte[0] : state;
        byte[] payload = new byte[16 + n.length + s.length];
        Bytes.putInt(payload, 0, n.length);
        System.arraycopy(n, 0, payload, 4, n.length);
        Bytes.putLong(payload, 4 + n.length, position);
        Bytes.putInt(payload, 12 + n.length, s.length);
        System.arraycopy(s, 0, payload, 16 + n.length, s.length);
        try {
            AtomicFiles.write(fileOf(name), MAGIC, VERSION, payload);
        } catch (IOException e) {
            throw ReelException.ofIo("cannot save checkpoint '" + name + "' in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether a file exists under {@code name}, damaged or not: with {@link #load} returning empty, it tells a
     * damaged checkpoint (exists) from a missing one (does not).
     */
    public boolean exists(String name) {
        return Files.exists(fileOf(name));
    }

    public void delete(String name) {
        try {
            Files.deleteIfExists(fileOf(name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete checkpoint '" + name + "'", e);
        }
    }

    /** Names of the checkpoints stored. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : files) {
                String file = f.getFileName().toString();
                names.add(decode(file.substring(0, file.length() - SUFFIX.length())));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return names;
    }

    private Path fileOf(String name) {
        if (name == null || name.isEmpty()) {
            throw ReelException.invalidArgument("a checkpoint needs a non-empty name");
        }
        requireStorableName("checkpoint", name);
        return dir.resolve(encode(name) + SUFFIX);
    }

    /** The longest name, as its file stores it (below), that leaves room in a file name for the suffix and a temporary file's. */
    private static final int MAX_ENCODED_NAME = 180;

    /**
     * Fails with {@code INVALID_ARGUMENT} when {@code name} is too long to be the name of a file here: at most 180
     * characters once encoded, so 180 ASCII letters and digits or fewer others (a byte outside them takes three).
     */
    public static void requireStorableName(String what, String name) {
        int encoded = encode(name).length();
        if (encoded > MAX_ENCODED_NAME) {
            throw ReelException.invalidArgument("the " + what + " name '" + name.substring(0, Math.min(name.length(), 40)) + "…' is too long: "
                + encoded + " characters as a file name, at most " + MAX_ENCODED_NAME + " (ASCII letters, digits, '-', '_' and '.' take one,"
                + " every other byte three); use a shorter name");
        }
    }

    /** Letters, digits, '-', '_' and '.' as they are (but a leading '.'); every other byte as %XX. */
    static String encode(String name) {
        StringBuilder b = new StringBuilder();
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            int c = bytes[i] & 0xFF;
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                || (c == '.' && i > 0);
            if (plain) {
                b.append((char) c);
            } else {
                b.append('%').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            }
        }
        return b.toString();
    }

    static String decode(String encoded) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < encoded.length(); i++) {
            char c = encoded.charAt(i);
            if (c == '%' && i + 2 < encoded.length()) {
                out.write(Integer.parseInt(encoded.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
