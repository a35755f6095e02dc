package dev.imgtrain.datasets;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Wraps a raw (still compressed) input stream to count its bytes and compute their SHA-256. */
final class CountingDigest {
    private final MessageDigest digest;
    private final DigestInputStream stream;
    private long bytes;

    CountingDigest(InputStream raw) {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        stream = new DigestInputStream(new FilterInputStream(raw) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    bytes++;
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    bytes += n;
                }
                return n;
            }
        }, digest);
    }

    InputStream stream() {
        return stream;
    }

    /** Reads whatever is left (a gzip trailer, tar padding) so the checksum covers the whole file. */
    void drain() throws IOException {
        byte[] rest = new byte[8192];
        while (stream.read(rest) != -1) {
            // counted and digested
        }
    }

    long bytes() {
        return bytes;
    }

    String sha256() {
        return HexFormat.of().formatHex(digest.digest());
    }
}
