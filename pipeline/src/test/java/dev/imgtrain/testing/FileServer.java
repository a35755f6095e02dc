package dev.imgtrain.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real HTTP server on 127.0.0.1 (the JDK's) serving files from memory, with single-range support ({@code Range:
 * bytes=N-}) and scripted faults: a status code answered instead of the file, or a body cut off after some bytes.
 */
public final class FileServer implements AutoCloseable {
    /** One request as the server saw it. */
    public record Request(String path, String range) {
    }

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    private final HttpServer server;
    private final Map<String, byte[]> files = new HashMap<>();
    private final Map<String, Deque<Integer>> faults = new HashMap<>();
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong bytesSent = new AtomicLong();
    private volatile boolean ranges = true;

    public FileServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public FileServer put(String name, byte[] bytes) {
        files.put("/files/" + name, bytes);
        return this;
    }

    /** The next request for {@code name} is answered with {@code status} and no body. */
    public FileServer failNext(String name, int status) {
        faults.computeIfAbsent("/files/" + name, k -> new ArrayDeque<>()).add(status);
        return this;
    }

    /** The next request for {@code name} gets the right headers but only {@code bytes} of the body, then the connection drops. */
    public FileServer cutNext(String name, int bytes) {
        faults.computeIfAbsent("/files/" + name, k -> new ArrayDeque<>()).add(-bytes - 1);
        return this;
    }

    /** Whether Range headers are honoured (a server that ignores them answers 200 with the whole file). */
    public FileServer ranges(boolean honoured) {
        ranges = honoured;
        return this;
    }

    public URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/files/");
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Body bytes written in total, over all requests. */
    public long bytesSent() {
        return bytesSent.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String range = exchange.getRequestHeaders().getFirst("Range");
        requests.add(new Request(path, range));
        byte[] file = files.get(path);
        Deque<Integer> pending = faults.get(path);
        Integer fault = pending == null ? null : pending.poll();
        try (exchange) {
            if (file == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            if (fault != null && fault >= 0) {
                exchange.sendResponseHeaders(fault, -1);
                return;
            }
            int from = 0;
            Matcher m = range == null ? null : RANGE.matcher(range);
            if (ranges && m != null && m.matches()) {
                from = Integer.parseInt(m.group(1));
                if (from >= file.length) {
                    exchange.getResponseHeaders().set("Content-Range", "bytes */" + file.length);
                    exchange.sendResponseHeaders(416, -1);
                    return;
                }
                exchange.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (file.length - 1) + "/" + file.length);
                exchange.sendResponseHeaders(206, file.length - from);
            } else {
                exchange.sendResponseHeaders(200, file.length);
            }
            int length = file.length - from;
            if (fault != null) {
                length = Math.min(length, -fault - 1);
            }
            OutputStream body = exchange.getResponseBody();
            body.write(file, from, length);
            body.flush();
            bytesSent.addAndGet(length);
            if (length < file.length - from) {
                // Drop the connection mid-body: the client sees fewer bytes than Content-Length promised.
                throw new IOException("cut on purpose");
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
