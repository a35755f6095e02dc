package dev.imgtrain.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Masks what looks like a secret before a value leaves the server: any key naming a secret, password, token,
 * credential or access key (as the configuration loader refuses such keys, and Hadoop's {@code fs.s3a.*secret*}).
 */
final class Secrets {
    static final String MASK = "*****";
    private static final Pattern SECRET_KEY =
            Pattern.compile("(?i).*(secret|password|passwd|token|credential|access[-._]?key|session[-._]?key).*");

    private Secrets() {
    }

    static boolean isSecretKey(String key) {
        return SECRET_KEY.matcher(key).matches();
    }

    /** {@code node} with the value of every secret-named key (at any depth) replaced by {@link #MASK}; in place. */
    static JsonNode mask(JsonNode node) {
        if (node instanceof ObjectNode o) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                if (isSecretKey(name) && !o.get(name).isNull()) {
                    o.put(name, MASK);
                } else {
                    mask(o.get(name));
                }
            }
        } else if (node instanceof ArrayNode a) {
            a.forEach(Secrets::mask);
        }
        return node;
    }
}
