package dev.imgtrain.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException.Parse;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one place that decides configuration precedence, on the driver only:
 * {@code conf/application.conf} (embedded as {@code imgtrain/application.conf}) &lt; {@code --config FILE} &lt;
 * {@code --set key=value} (in order) &lt; a command's own flags. Model keys ({@code model.*}) override the chosen
 * preset's file {@code imgtrain/models/<preset>.conf} the same way.
 *
 * <p>Unknown keys are refused with the key's name, so a typo never falls back to a default silently. The result is
 * parsed once into the immutable {@link PipelineConfig}.
 */
public final class ConfigLoader {
    static final String DEFAULTS = "imgtrain/application.conf";
    static final String MODELS = "imgtrain/models/";

    private final Config defaults;
    private Config user = ConfigFactory.empty();

    public ConfigLoader() {
        this.defaults = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), DEFAULTS,
                ConfigParseOptions.defaults().setAllowMissing(false));
    }

    /** Layers a HOCON file over the defaults. */
    public ConfigLoader withFile(File file) {
        if (!file.isFile()) {
            throw new ConfigException("--config " + file + ": no such file");
        }
        try {
            Config parsed = ConfigFactory.parseFile(file, ConfigParseOptions.defaults().setAllowMissing(false));
            user = parsed.withFallback(user);
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException("--config " + file + ": " + e.getMessage(), e);
        }
        return this;
    }

    /** Layers one {@code key=value} (HOCON value syntax: numbers, strings, lists) over what is there. */
    public ConfigLoader withSetting(String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("--set " + assignment + ": expected key=value");
        }
        String key = assignment.substring(0, eq).trim();
        String value = assignment.substring(eq + 1).trim();
        Config parsed;
        try {
            parsed = ConfigFactory.parseString(quoteKey(key) + " = " + value,
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF));
        } catch (Parse e) {
            // A bare string with characters HOCON treats specially (a URI with ':'), taken literally.
            parsed = ConfigFactory.parseMap(Map.of(key, value));
        }
        user = parsed.withFallback(user);
        return this;
    }

    /** Layers one key's HOCON value over what is there (a sweep's shared settings, then a trial's parameters). */
    public ConfigLoader withValue(String key, com.typesafe.config.ConfigValue value) {
        user = ConfigFactory.empty().withValue(quoteKey(key), value).withFallback(user);
        return this;
    }

    /** Whether a file, setting, value or flag layered so far gives {@code key} (the defaults do not count). */
    public boolean sets(String key) {
        return user.hasPathOrNull(quoteKey(key));
    }

    /** A command flag: the highest precedence. Null means the flag was not given. */
    public ConfigLoader withFlag(String key, Object value) {
        if (value != null) {
            user = ConfigFactory.parseMap(Map.of(key, value)).withFallback(user);
        }
        return this;
    }

    /** Resolves, rejects unknown keys, checks every value, and returns the immutable result. */
    public PipelineConfig load() {
        Config userWithoutModel = user.withoutPath("model");
        rejectUnknown(userWithoutModel, defaults, "");
        Config merged = userWithoutModel.withFallback(defaults).resolve();
        String preset = merged.getString("train.preset");
        Config presetConfig = loadPreset(preset);
        Config model = user.hasPath("model") ? user.getConfig("model") : ConfigFactory.empty();
        rejectUnknown(model, presetConfig, "model.");
        Config effectiveModel = model.withFallback(presetConfig).resolve();
        return PipelineConfig.from(merged, effectiveModel, preset);
    }

    static Config loadPreset(String preset) {
        if (!preset.matches("[a-z0-9][a-z0-9-]*")) {
            throw new ConfigException("train.preset = '" + preset + "': a preset name is lower-case letters, digits and '-'");
        }
        Config presetConfig = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(),
                MODELS + preset + ".conf");
        if (presetConfig.isEmpty()) {
            throw new ConfigException("train.preset = '" + preset + "': no such preset; known presets: " + knownPresets());
        }
        return presetConfig;
    }

    /** Preset names shipped in conf/models/. */
    public static List<String> knownPresets() {
        return List.of("mnist-dense-512", "mnist-dense-32-16", "fashion-dense-512", "cifar10-dense-32-16",
                "cifar10-dense-512-256");
    }

    /** Renders the effective configuration as HOCON-compatible JSON, for logs and params.json. */
    public static String render(Config config) {
        return config.root().render(ConfigRenderOptions.concise().setFormatted(true));
    }

    private static void rejectUnknown(Config candidate, Config reference, String prefix) {
        Set<String> unknown = new TreeSet<>();
        for (Map.Entry<String, ConfigValue> entry : candidate.entrySet()) {
            String key = entry.getKey();
            if (!reference.hasPathOrNull(key) && !isInsideListValue(reference, key)) {
                unknown.add(prefix + key);
            }
        }
        if (unknown.stream().anyMatch(k -> k.matches("(?i).*(secret|access[-.]?key|password|token|credential).*"))) {
            throw new ConfigException("unknown configuration key" + (unknown.size() > 1 ? "s " : " ") + unknown
                    + ": credentials are never configuration; S3A reads them from AWS_ACCESS_KEY_ID / "
                    + "AWS_SECRET_ACCESS_KEY, fs.s3a.access.key / fs.s3a.secret.key or its provider chain");
        }
        if (!unknown.isEmpty()) {
            List<String> known = new ArrayList<>(new TreeSet<>(prefixed(reference.entrySet(), prefix)));
            throw new ConfigException("unknown configuration key" + (unknown.size() > 1 ? "s " : " ") + unknown
                    + "; known keys: " + known);
        }
    }

    private static boolean isInsideListValue(Config reference, String key) {
        // entrySet() flattens objects but keeps lists whole; a list-valued key is known when its root is.
        int dot = key.lastIndexOf('.');
        while (dot > 0) {
            key = key.substring(0, dot);
            if (reference.hasPath(key)) {
                return reference.getValue(key).valueType() == com.typesafe.config.ConfigValueType.LIST;
            }
            dot = key.lastIndexOf('.');
        }
        return false;
    }

    private static List<String> prefixed(Set<Map.Entry<String, ConfigValue>> entries, String prefix) {
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : entries) {
            keys.add(prefix + e.getKey());
        }
        return keys;
    }

    private static String quoteKey(String key) {
        for (String part : key.split("\\.", -1)) {
            if (!part.matches("[A-Za-z0-9_-]+")) {
                throw new ConfigException("--set " + key + ": not a configuration key (letters, digits, '-', '_' and '.')");
            }
        }
        return key;
    }
}
