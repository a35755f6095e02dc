package dev.imgtrain.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Masks what looks like a secret before a value leaves the server: any key naming a secret, password, token,
 * credential, access or encryption key (the configuration loader refuses such keys; Hadoop's own list,
 * {@code hadoop.security.sensitive-config-keys}, names the same kinds: {@code fs.s3a.*secret*},
 * {@code fs.s3a.encryption.key}, {@code fs.azure.account.key.*}, {@code *password}, {@code oauth.*}).
 */
final class Secrets {
    static final String MASK = "*****";
    private static final Pattern SECRET_KEY =
            Pattern.compile("(?i).*(secret|password|passwd|pass$|token|credential|access[-._]?key|session[-._]?key|"
                    + "encryption|account[-._]key|keystore|private[-._]?key|oauth|signature).*");

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
