package dev.imgtrain.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * An expected file digest: MD5 (what MNIST's, Fashion-MNIST's and CIFAR-10's publishers give) or SHA-256. The
 * algorithm follows from the length of the hex string, as in {@code md5sum}/{@code sha256sum} output.
 */
public record Digest(String algorithm, String hex) {
    public Digest {
        hex = hex.toLowerCase(Locale.ROOT);
    }

    /** 32 hex digits: MD5; 64: SHA-256. */
    public static Digest parse(String hex) {
        String h = hex.trim();
        if (!h.matches("[0-9a-fA-F]+")) {
            throw new IllegalArgumentException("'" + hex + "' is not a hex digest");
        }
        return switch (h.length()) {
            case 32 -> new Digest("MD5", h);
            case 64 -> new Digest("SHA-256", h);
            default -> throw new IllegalArgumentException("'" + hex + "' has " + h.length()
                    + " hex digits; expected 32 (MD5) or 64 (SHA-256)");
        };
    }

    public MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** This digest's algorithm applied to a file's bytes, as hex. */
    public String of(Path file) throws IOException {
        MessageDigest md = newDigest();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                md.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public String label() {
        return algorithm.equals("MD5") ? "md5" : "sha256";
    }

    @Override
    public String toString() {
        return label() + " " + hex;
    }
}
