package dev.imgtrain.ui;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.imgtrain.store.Warehouse;

import java.nio.charset.StandardCharsets;

/** What a handler answers: status, content type and body (HEAD sends the headers only). */
record Response(int status, String contentType, byte[] body, String cacheControl) {
    static final String HTML = "text/html; charset=utf-8";
    static final String JSON = "application/json; charset=utf-8";

    static Response html(byte[] body) {
        return new Response(200, HTML, body, "no-store");
    }

    static Response json(Object value) {
        return json(200, value);
    }

    static Response json(int status, Object value) {
        try {
            return new Response(status, JSON, Warehouse.JSON.writeValueAsBytes(value), "no-store");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static Response text(int status, String text) {
        return new Response(status, "text/plain; charset=utf-8", (text + "\n").getBytes(StandardCharsets.UTF_8), "no-store");
    }

    /** A file's bytes; {@code immutable}: it never changes under this URL (a committed run's report, the jar's assets). */
    static Response file(String name, byte[] body, boolean immutable) {
        return new Response(200, contentType(name), body, immutable ? "max-age=3600" : "no-cache");
    }

    static String contentType(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        if (n.endsWith(".html")) {
            return HTML;
        } else if (n.endsWith(".png")) {
            return "image/png";
        } else if (n.endsWith(".svg")) {
            return "image/svg+xml";
        } else if (n.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        } else if (n.endsWith(".css")) {
            return "text/css; charset=utf-8";
        } else if (n.endsWith(".json")) {
            return JSON;
        } else if (n.endsWith(".csv")) {
            return "text/csv; charset=utf-8";
        }
        return "application/octet-stream";
    }
}
