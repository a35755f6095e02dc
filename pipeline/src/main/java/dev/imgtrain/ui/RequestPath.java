package dev.imgtrain.ui;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A request's path cut into decoded segments, or refused: nothing a client sends can name a file outside the
 * warehouse. Refused (400): an encoded slash, backslash or NUL ({@code %2f}, {@code %5c}, {@code %00}), a literal
 * backslash or NUL, a {@code .} or {@code ..} segment in any spelling ({@code %2e%2e}), an empty segment
 * ({@code //}), a path that is not absolute, malformed percent-encoding. Names that pass are then only ever looked up
 * among the entries of a warehouse directory listing, never joined onto a path as given.
 */
record RequestPath(List<String> segments) {
    static final class BadPath extends IllegalArgumentException {
        BadPath(String message) {
            super(message);
        }
    }

    static RequestPath parse(String rawPath) {
        if (rawPath == null || !rawPath.startsWith("/")) {
            throw new BadPath("the path must start with /");
        }
        String lower = rawPath.toLowerCase(Locale.ROOT);
        if (lower.contains("%2f") || lower.contains("%5c") || lower.contains("%00") || rawPath.indexOf('\\') >= 0
                || rawPath.indexOf('\0') >= 0) {
            throw new BadPath("encoded slashes, backslashes and NUL are not allowed in a path");
        }
        List<String> segments = new ArrayList<>();
        String trimmed = rawPath.substring(1);
        if (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        if (trimmed.isEmpty()) {
            return new RequestPath(List.of());
        }
        for (String raw : trimmed.split("/", -1)) {
            String s = decode(raw);
            if (s.isEmpty() || s.equals(".") || s.equals("..") || s.indexOf('/') >= 0 || s.indexOf('\\') >= 0
                    || s.indexOf('\0') >= 0) {
                throw new BadPath("empty, '.' and '..' path segments are not allowed");
            }
            segments.add(s);
        }
        return new RequestPath(List.copyOf(segments));
    }

    private static String decode(String raw) {
        try {
            // URLDecoder also turns '+' into a space, which is a query's rule, not a path's.
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BadPath("malformed percent-encoding in the path");
        }
    }

    int size() {
        return segments.size();
    }

    String get(int i) {
        return segments.get(i);
    }

    /** The query's parameters (raw query string), each value list decoded; {@code runs=A,B} splits on raw commas. */
    static Map<String, List<String>> query(String rawQuery) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return params;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String key = decodeQuery(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            List<String> values = params.computeIfAbsent(key, k -> new ArrayList<>());
            for (String part : value.split(",", -1)) {
                String decoded = decodeQuery(part);
                if (!decoded.isEmpty()) {
                    values.add(decoded);
                }
            }
        }
        return params;
    }

    private static String decodeQuery(String raw) {
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BadPath("malformed percent-encoding in the query");
        }
    }

    /** {@code name} percent-encoded as one path segment (for links the pages make). */
    static String encode(String name) {
        return java.net.URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
