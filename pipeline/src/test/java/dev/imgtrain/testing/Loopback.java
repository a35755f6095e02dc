package dev.imgtrain.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Ports on 127.0.0.1 for tests that start servers (or need a port nothing listens on). */
public final class Loopback {
    private Loopback() {
    }

    /** A port that was free a moment ago; nothing listens on it when this returns. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
