package io.reel.transport.internal;

import io.reel.store.ErrorCode;
import io.reel.store.ReelException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The bearer tokens a server accepts, read from a tokens file:
 *
 * <pre>
 * # one TOKEN ROLE pair a line, separated by white space; '#' starts a comment that runs to the end of the line
 * 8c1f0e6d2a...   read
 * 51b7e9a4c3...   admin
 * </pre>
 *
 * Roles are {@code read}, {@code write} and {@code admin} ({@link Role}). Tokens are kept as SHA-256 digests
 * and looked up by digest, so a lookup's time does not depend on how much of a guess matches.
 */
public final class TokenFile {
    private final Map<String, Role> roleByDigest;

    private TokenFile(Map<String, Role> roleByDigest) {
        this.roleByDigest = roleByDigest;
    }

    /** Reads and checks a tokens file; fails with {@code INVALID_ARGUMENT} naming the file and the line. */
    public static TokenFile load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "cannot read the tokens file " + file + ": " + e);
        }
        Map<String, Role> tokens = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String content = (hash < 0 ? line : line.substring(0, hash)).trim();
            if (content.isEmpty()) {
                continue;
            }
            String[] parts = content.split("\\s+");
            String where = "the tokens file " + file + ", line " + (i + 1);
            if (parts.length != 2) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, where + " has " + parts.length
                    + " words; write one 'TOKEN ROLE' pair a line (role read, write or admin)");
            }
            Role role;
            try {
                role = Role.valueOf(parts[1].toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, where + " names the role '" + parts[1]
                    + "'; the roles are read, write and admin");
            }
            if (tokens.put(digest(parts[0]), role) != null) {
                throw new ReelException(ErrorCode.INVALID_ARGUMENT, where + " repeats a token of an earlier line; give each token once");
            }
        }
        if (tokens.isEmpty()) {
            throw new ReelException(ErrorCode.INVALID_ARGUMENT, "the tokens file " + file
                + " has no tokens, so no client could connect; add 'TOKEN ROLE' lines or start without --tokens");
        }
        return new TokenFile(Map.copyOf(tokens));
    }

    /** The role the token grants, or null when the token is unknown. */
    public Role roleOf(String token) {
        return roleByDigest.get(digest(token));
    }

    public int size() {
        return roleByDigest.size();
    }

    private static String digest(String token) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
