package dev.imgtrain.ui;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.imgtrain.store.Warehouse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code imgtrain ui}: a read-only web server over one warehouse, on the JDK's own HTTP server
 * ({@code com.sun.net.httpserver}: no web framework, so nothing clashes with the Jetty 9.4 Hadoop brings). Every
 * request is a GET or HEAD (anything else: 405), its path passes {@link RequestPath} (else 400), and every response
 * carries a Content-Security-Policy that runs only this server's scripts, {@code X-Content-Type-Options: nosniff} and
 * no-referrer. The warehouse is read through its Hadoop FileSystem (file:, hdfs:, s3a:), never through Spark; a
 * warehouse that cannot be read gives pages that say so (503), and the server stays up.
 */
public final class UiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UiServer.class);
    static final String CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
            + "style-src 'self' 'unsafe-inline'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private final HttpServer server;
    private final ExecutorService pool;
    private final Routes routes;

    private UiServer(HttpServer server, ExecutorService pool, Routes routes) {
        this.server = server;
        this.pool = pool;
        this.routes = routes;
    }

    /**
     * Starts serving {@code warehouse} on {@code host}:{@code port} ({@code 0}: a free port).
     *
     * @throws java.net.BindException when the port is taken (or the host is not this machine's)
     */
    public static UiServer start(Warehouse warehouse, String host, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 64);
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "imgtrain-ui-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        UiServer ui = new UiServer(server, pool, new Routes(new WarehouseView(warehouse)));
        server.createContext("/", ui::handle);
        server.setExecutor(pool);
        server.start();
        return ui;
    }

    /** The address to open: {@code http://HOST:PORT/} (the host as given, the port as bound). */
    public URI address() {
        InetSocketAddress a = server.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getHostString();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/");
    }

    private void handle(HttpExchange exchange) throws IOException {
        long start = System.nanoTime();
        Response response;
        String method = exchange.getRequestMethod();
        try {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                response = Response.text(405, "405 method not allowed: this server is read-only (GET and HEAD only)");
            } else {
                URI uri = exchange.getRequestURI();
                response = routes.answer(RequestPath.parse(uri.getRawPath()), RequestPath.query(uri.getRawQuery()));
            }
        } catch (RequestPath.BadPath e) {
            response = Response.text(400, "400 bad request: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("ui: {} {} failed", method, exchange.getRequestURI(), e);
            response = Response.text(500, "500 internal error: " + e);
        }
        send(exchange, response, method.equals("HEAD"));
        LOG.debug("ui: {} {} -> {} in {} ms", method, exchange.getRequestURI(), response.status(),
                (System.nanoTime() - start) / 1_000_000);
    }

    private static void send(HttpExchange exchange, Response response, boolean head) throws IOException {
        var h = exchange.getResponseHeaders();
        h.set("Content-Type", response.contentType());
        h.set("Content-Security-Policy", CSP);
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Referrer-Policy", "no-referrer");
        h.set("X-Frame-Options", "DENY");
        h.set("Cache-Control", response.cacheControl());
        try (OutputStream out = exchange.getResponseBody()) {
            if (head) {
                h.set("Content-Length", Integer.toString(response.body().length));
                exchange.sendResponseHeaders(response.status(), -1);
            } else {
                exchange.sendResponseHeaders(response.status(), response.body().length == 0 ? -1 : response.body().length);
                out.write(response.body());
            }
        } catch (IOException clientGone) {
            LOG.debug("ui: client went away: {}", clientGone.toString());
        } finally {
            exchange.close();
        }
    }

    /** Stops serving (waits up to a second for requests in flight). */
    @Override
    public void close() {
        server.stop(1);
        pool.shutdownNow();
    }

    /** For tests: the same routes without a socket. */
    static Response answer(Warehouse warehouse, String rawPath, String rawQuery) {
        try {
            return new Routes(new WarehouseView(warehouse)).answer(RequestPath.parse(rawPath), RequestPath.query(rawQuery));
        } catch (RequestPath.BadPath e) {
            return Response.text(400, e.getMessage());
        }
    }
}
