package dev.imgtrain.sweep;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import dev.imgtrain.config.ConfigException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * A sweep spec ({@code conf/sweeps/*.conf}, HOCON), checked whole when parsed, and the trials it stands for.
 *
 * <pre>
 * sweep {
 *   id = mnist-quick                  # default: the spec file's name
 *   dataset = mnist                   # default: the dataset the configuration (or --dataset) names
 *   base { train.epochs = 2 }         # settings every trial shares: any configuration key
 *   grid {                            # every combination of these values (a list per key) ...
 *     model.updater.learning-rate = [0.001, 0.003]
 *   }
 *   random {                          # ... or a random search: a budget of trials, a seed, and a space
 *     trials = 6, seed = 7
 *     space { model.updater.learning-rate.log-uniform = [0.0001, 0.01], train.preset.choice = [a, b] }
 *   }
 * }
 * </pre>
 *
 * A trial's run id is the sweep id and a hash of its parameters, so the same trial always has the same run id (a
 * re-run sweep finds the trials it already committed). Keys that say where data lives ({@code dataset}, {@code
 * source}, {@code warehouse}, {@code format}) and the run id belong to the sweep, not to a trial.
 */
public record SweepSpec(String id, String dataset, Map<String, ConfigValue> base, List<String> sweptKeys,
                        List<Trial> trials, String text) {
    private static final Set<String> SECTIONS = Set.of("id", "dataset", "base", "grid", "random");
    private static final Set<String> RANDOM_KEYS = Set.of("trials", "seed", "space");
    private static final List<String> DISTRIBUTIONS = List.of("choice", "uniform", "log-uniform", "int-uniform");
    private static final Set<String> NOT_PER_TRIAL = Set.of("dataset", "source", "warehouse", "format", "train.run-id");
    static final int MAX_TRIALS = 1000;

    /** One trial: its run id and the values of the swept keys, in the spec's key order. */
    public record Trial(String runId, Map<String, ConfigValue> params) {
        /** "key=value, key=value", for logs and error messages. */
        public String label() {
            List<String> parts = new ArrayList<>();
            params.forEach((k, v) -> parts.add(k + "=" + render(v)));
            return String.join(", ", parts);
        }
    }

    public SweepSpec {
        base = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(base));
        sweptKeys = List.copyOf(sweptKeys);
        trials = List.copyOf(trials);
    }

    /** A value as HOCON (and JSON) text: what {@code --set key=VALUE} takes and what the leaderboard shows. */
    public static String render(ConfigValue value) {
        return value.valueType() == ConfigValueType.STRING ? (String) value.unwrapped()
                : value.render(ConfigRenderOptions.concise());
    }

    /**
     * Parses and checks a spec. {@code name} is the spec file's name (the default id, and what errors say);
     * {@code idOverride} (null: none) is {@code --sweep-id}.
     */
    public static SweepSpec parse(String text, String name, String idOverride) {
        Config root;
        try {
            root = ConfigFactory.parseString(text, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF)
                    .setOriginDescription(name)).resolve();
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException("sweep spec " + name + ": " + e.getMessage(), e);
        }
        if (!root.hasPath("sweep") || root.getValue("sweep").valueType() != ConfigValueType.OBJECT) {
            throw new ConfigException("sweep spec " + name + ": expected one object 'sweep { ... }'");
        }
        for (String key : root.root().keySet()) {
            if (!key.equals("sweep")) {
                throw new ConfigException("sweep spec " + name + ": unknown key '" + key + "' (everything goes under 'sweep')");
            }
        }
        Config sweep = root.getConfig("sweep");
        for (String key : sweep.root().keySet()) {
            if (!SECTIONS.contains(key)) {
                throw new ConfigException("sweep spec " + name + ": unknown key 'sweep." + key + "'; known: " + new java.util.TreeSet<>(SECTIONS));
            }
        }
        String id = idOverride != null ? idOverride : sweep.hasPath("id") ? string(sweep, "id", name)
                : name.replaceFirst("\\.conf$", "").replaceFirst(".*/", "");
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,80}")) {
            throw new ConfigException("sweep spec " + name + ": sweep.id = '" + id
                    + "': expected letters, digits, '.', '_' and '-' (a directory name under sweeps/)");
        }
        String dataset = sweep.hasPath("dataset") ? string(sweep, "dataset", name) : null;
        Map<String, ConfigValue> base = new TreeMap<>();
        if (sweep.hasPath("base")) {
            Config b = object(sweep, "base", name);
            base.putAll(flat(b));
            checkPerTrialKeys(base.keySet(), "sweep.base", name);
        }
        boolean grid = sweep.hasPath("grid");
        boolean random = sweep.hasPath("random");
        if (grid == random) {
            throw new ConfigException("sweep spec " + name + ": give either sweep.grid or sweep.random, "
                    + (grid ? "not both" : "neither is there"));
        }
        List<Map<String, ConfigValue>> combinations;
        List<String> keys;
        if (grid) {
            Map<String, List<ConfigValue>> values = grid(object(sweep, "grid", name), name);
            keys = new ArrayList<>(values.keySet());
            combinations = product(values);
        } else {
            Random rng;
            Config r = object(sweep, "random", name);
            for (String key : r.root().keySet()) {
                if (!RANDOM_KEYS.contains(key)) {
                    throw new ConfigException("sweep spec " + name + ": unknown key 'sweep.random." + key + "'; known: " + RANDOM_KEYS);
                }
            }
            int budget = integer(r, "trials", "sweep.random.trials", name);
            if (budget < 1 || budget > MAX_TRIALS) {
                throw new ConfigException("sweep spec " + name + ": sweep.random.trials = " + budget
                        + ": expected a budget in [1, " + MAX_TRIALS + "]");
            }
            rng = new Random(r.hasPath("seed") ? integer(r, "seed", "sweep.random.seed", name) : 1);
            Map<String, Distribution> space = space(object(r, "space", name), name);
            keys = new ArrayList<>(space.keySet());
            combinations = new ArrayList<>();
            for (int t = 0; t < budget; t++) {
                Map<String, ConfigValue> trial = new LinkedHashMap<>();
                space.forEach((k, d) -> trial.put(k, d.sample(rng)));
                if (!combinations.contains(trial)) {
                    combinations.add(trial);
                }
            }
        }
        checkPerTrialKeys(keys, grid ? "sweep.grid" : "sweep.random.space", name);
        if (combinations.size() > MAX_TRIALS) {
            throw new ConfigException("sweep spec " + name + ": the grid has " + combinations.size()
                    + " combinations; at most " + MAX_TRIALS);
        }
        List<Trial> trials = new ArrayList<>();
        for (Map<String, ConfigValue> params : combinations) {
            trials.add(new Trial(id + "-" + hash(params), params));
        }
        return new SweepSpec(id, dataset, base, keys, trials, text);
    }

    private static Map<String, List<ConfigValue>> grid(Config grid, String name) {
        Map<String, List<ConfigValue>> values = new LinkedHashMap<>();
        if (grid.isEmpty()) {
            throw new ConfigException("sweep spec " + name + ": sweep.grid is empty: give at least one key and its values");
        }
        for (Map.Entry<String, ConfigValue> e : new TreeMap<>(flat(grid)).entrySet()) {
            String key = "sweep.grid." + e.getKey();
            if (e.getValue().valueType() != ConfigValueType.LIST) {
                throw new ConfigException("sweep spec " + name + ": " + key + " = " + render(e.getValue())
                        + ": expected a list of values, e.g. [0.001, 0.01]");
            }
            List<ConfigValue> list = new ArrayList<>((com.typesafe.config.ConfigList) e.getValue());
            if (list.isEmpty()) {
                throw new ConfigException("sweep spec " + name + ": " + key + " = []: expected at least one value");
            }
            values.put(e.getKey(), list);
        }
        return values;
    }

    /**
     * Leaf entries; a key whose values are lists of objects (such as {@code model.hidden}) stays one entry, as
     * {@link Config#entrySet} keeps lists whole.
     */
    private static Map<String, ConfigValue> flat(Config config) {
        Map<String, ConfigValue> flat = new LinkedHashMap<>();
        // A quoted key ("model.updater.learning-rate" = [...]) is one path element holding dots: the same key.
        config.entrySet().forEach(e -> flat.put(String.join(".", com.typesafe.config.ConfigUtil.splitPath(e.getKey())),
                e.getValue()));
        return flat;
    }

    private static List<Map<String, ConfigValue>> product(Map<String, List<ConfigValue>> values) {
        List<Map<String, ConfigValue>> result = new ArrayList<>();
        result.add(new LinkedHashMap<>());
        for (Map.Entry<String, List<ConfigValue>> e : values.entrySet()) {
            List<Map<String, ConfigValue>> next = new ArrayList<>();
            for (Map<String, ConfigValue> partial : result) {
                for (ConfigValue v : e.getValue()) {
                    Map<String, ConfigValue> m = new LinkedHashMap<>(partial);
                    m.put(e.getKey(), v);
                    next.add(m);
                }
                if (next.size() > MAX_TRIALS) {
                    throw new ConfigException("sweep spec: the grid has more than " + MAX_TRIALS + " combinations");
                }
            }
            result = next;
        }
        return result;
    }

    /** A random-search dimension: one of the values, or a number drawn from a range. */
    private record Distribution(String kind, List<ConfigValue> values, double low, double high) {
        ConfigValue sample(Random rng) {
            return switch (kind) {
                case "choice" -> values.get(rng.nextInt(values.size()));
                case "uniform" -> ConfigValueFactory.fromAnyRef(round(low + rng.nextDouble() * (high - low)));
                case "log-uniform" -> ConfigValueFactory.fromAnyRef(round(Math.exp(Math.log(low)
                        + rng.nextDouble() * (Math.log(high) - Math.log(low)))));
                case "int-uniform" -> ConfigValueFactory.fromAnyRef((int) low + rng.nextInt((int) high - (int) low + 1));
                default -> throw new IllegalStateException(kind);
            };
        }

        /** Four significant digits: readable in run ids' labels and leaderboards. */
        private static double round(double v) {
            return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).doubleValue();
        }
    }

    private static Map<String, Distribution> space(Config space, String name) {
        if (space.isEmpty()) {
            throw new ConfigException("sweep spec " + name + ": sweep.random.space is empty: give at least one key");
        }
        Map<String, Distribution> dims = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> e : flat(space).entrySet()) {
            String path = e.getKey();
            String kind = DISTRIBUTIONS.stream().filter(d -> path.endsWith("." + d)).findFirst().orElseThrow(() ->
                    new ConfigException("sweep spec " + name + ": sweep.random.space." + path + ": expected one of "
                            + DISTRIBUTIONS + " under each key, e.g. { log-uniform = [0.0001, 0.01] }"));
            String key = path.substring(0, path.length() - kind.length() - 1);
            String where = "sweep.random.space." + path;
            if (dims.containsKey(key)) {
                throw new ConfigException("sweep spec " + name + ": sweep.random.space." + key + ": one distribution per key");
            }
            if (e.getValue().valueType() != ConfigValueType.LIST || ((List<?>) e.getValue().unwrapped()).isEmpty()) {
                throw new ConfigException("sweep spec " + name + ": " + where + ": expected a non-empty list");
            }
            List<ConfigValue> values = new ArrayList<>((com.typesafe.config.ConfigList) e.getValue());
            if (kind.equals("choice")) {
                dims.put(key, new Distribution(kind, values, 0, 0));
                continue;
            }
            if (values.size() != 2 || values.stream().anyMatch(v -> v.valueType() != ConfigValueType.NUMBER)) {
                throw new ConfigException("sweep spec " + name + ": " + where + " = " + render(e.getValue())
                        + ": expected [low, high], two numbers");
            }
            double low = ((Number) values.get(0).unwrapped()).doubleValue();
            double high = ((Number) values.get(1).unwrapped()).doubleValue();
            if (!(low < high) || (kind.equals("log-uniform") && low <= 0)
                    || (kind.equals("int-uniform") && (low != Math.rint(low) || high != Math.rint(high)))) {
                throw new ConfigException("sweep spec " + name + ": " + where + " = " + render(e.getValue())
                        + ": expected low < high" + (kind.equals("log-uniform") ? ", both above 0"
                        : kind.equals("int-uniform") ? ", both integers" : ""));
            }
            dims.put(key, new Distribution(kind, List.of(), low, high));
        }
        return dims;
    }

    private static void checkPerTrialKeys(java.util.Collection<String> keys, String section, String name) {
        for (String key : keys) {
            if (NOT_PER_TRIAL.contains(key)) {
                throw new ConfigException("sweep spec " + name + ": " + section + "." + key
                        + ": not a trial setting (the sweep's dataset, source and warehouse come from sweep.dataset "
                        + "and the command's flags; run ids from the sweep)");
            }
        }
    }

    private static Config object(Config parent, String key, String name) {
        if (parent.getValue(key).valueType() != ConfigValueType.OBJECT) {
            throw new ConfigException("sweep spec " + name + ": " + key + " = " + render(parent.getValue(key))
                    + ": expected an object { ... }");
        }
        return parent.getConfig(key);
    }

    private static String string(Config c, String key, String name) {
        if (c.getValue(key).valueType() != ConfigValueType.STRING) {
            throw new ConfigException("sweep spec " + name + ": sweep." + key + " = " + render(c.getValue(key)) + ": expected a string");
        }
        return c.getString(key);
    }

    private static int integer(Config c, String key, String fullKey, String name) {
        ConfigValue v = c.getValue(key);
        if (v.valueType() != ConfigValueType.NUMBER || !(v.unwrapped() instanceof Integer)) {
            throw new ConfigException("sweep spec " + name + ": " + fullKey + " = " + render(v) + ": expected an integer");
        }
        return (Integer) v.unwrapped();
    }

    /** 8 hex digits of SHA-256 over the sorted "key=value" pairs. */
    static String hash(Map<String, ConfigValue> params) {
        StringBuilder canonical = new StringBuilder();
        new TreeMap<>(params).forEach((k, v) -> canonical.append(k).append('=').append(v.render(ConfigRenderOptions.concise())).append(';'));
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
