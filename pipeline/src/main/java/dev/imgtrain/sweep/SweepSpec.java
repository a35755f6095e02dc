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
                        List<Trial> trials, String text, Asha asha) {
    private static final Set<String> SECTIONS = Set.of("id", "dataset", "base", "grid", "random", "asha");
    private static final Set<String> RANDOM_KEYS = Set.of("trials", "seed", "space");
    private static final Set<String> ASHA_KEYS = Set.of("trials", "seed", "space", "grid", "min-epochs", "max-epochs",
            "reduction-factor", "metric", "mode");

    /**
     * {@code sweep.asha}: asynchronous successive halving (Li et al., MLSys 2020). Every trial trains up to
     * {@code maxEpochs}; at each rung (minEpochs x reductionFactor^k epochs, below maxEpochs) a trial goes on when its
     * {@code metric} is among the best ceil(n / reductionFactor) of the n trials that reached that rung so far (itself
     * included), else it stops there.
     */
    public record Asha(int minEpochs, int maxEpochs, int reductionFactor, String metric, String mode) {
        /** The rungs' epochs: min, min x eta, ... below max (max itself is where every trial ends). */
        public List<Integer> rungs() {
            List<Integer> rungs = new ArrayList<>();
            for (long r = minEpochs; r < maxEpochs; r *= reductionFactor) {
                rungs.add((int) r);
            }
            return rungs;
        }
    }
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
        checkKeys(sweep, SECTIONS, "sweep", name);
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
        int strategies = (sweep.hasPath("grid") ? 1 : 0) + (sweep.hasPath("random") ? 1 : 0) + (sweep.hasPath("asha") ? 1 : 0);
        if (strategies != 1) {
            throw new ConfigException("sweep spec " + name + ": give one of sweep.grid, sweep.random or sweep.asha, "
                    + (strategies > 1 ? "not more" : "none is there"));
        }
        Asha asha = null;
        Config strategy = sweep;
        String prefix = "sweep.";
        if (sweep.hasPath("asha")) {
            strategy = object(sweep, "asha", name);
            checkKeys(strategy, ASHA_KEYS, "sweep.asha", name);
            asha = asha(strategy, name);
            if (strategy.hasPath("grid") == strategy.hasPath("space")) {
                throw new ConfigException("sweep spec " + name + ": sweep.asha samples its trials from a grid { ... } (every "
                        + "combination) or a space { ... } (trials = N drawn at random): give one");
            }
            prefix = "sweep.asha.";
        } else if (sweep.hasPath("random")) {
            strategy = object(sweep, "random", name);
            checkKeys(strategy, RANDOM_KEYS, "sweep.random", name);
            prefix = "sweep.random.";
        }
        boolean grid = strategy.hasPath("grid");
        String section = prefix + (grid ? "grid" : "space");
        List<Map<String, ConfigValue>> combinations;
        List<String> keys;
        if (grid) {
            Map<String, List<ConfigValue>> values = grid(object(strategy, "grid", name), name, section);
            keys = new ArrayList<>(values.keySet());
            combinations = product(values);
            if (asha != null) {
                // Successive halving compares trials in the order they reach a rung: a seeded order, not the grid's
                // (whose first trials would all share the first key's first value).
                java.util.Collections.shuffle(combinations, new Random(strategy.hasPath("seed")
                        ? integer(strategy, "seed", prefix + "seed", name) : 1));
            }
        } else {
            int budget = integer(strategy, "trials", prefix + "trials", name);
            if (budget < 1 || budget > MAX_TRIALS) {
                throw new ConfigException("sweep spec " + name + ": " + prefix + "trials = " + budget
                        + ": expected a budget in [1, " + MAX_TRIALS + "]");
            }
            Random rng = new Random(strategy.hasPath("seed") ? integer(strategy, "seed", prefix + "seed", name) : 1);
            Map<String, Distribution> space = space(object(strategy, "space", name), name, section);
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
        checkPerTrialKeys(keys, section, name);
        if (asha != null && (keys.contains("train.epochs") || base.containsKey("train.epochs"))) {
            throw new ConfigException("sweep spec " + name + ": train.epochs is not set in an ASHA sweep: every trial trains "
                    + "up to sweep.asha.max-epochs unless a rung stops it");
        }
        if (combinations.size() > MAX_TRIALS) {
            throw new ConfigException("sweep spec " + name + ": the grid has " + combinations.size()
                    + " combinations; at most " + MAX_TRIALS);
        }
        List<Trial> trials = new ArrayList<>();
        for (Map<String, ConfigValue> params : combinations) {
            trials.add(new Trial(id + "-" + hash(params), params));
        }
        return new SweepSpec(id, dataset, base, keys, trials, text, asha);
    }

    private static Asha asha(Config a, String name) {
        int min = a.hasPath("min-epochs") ? integer(a, "min-epochs", "sweep.asha.min-epochs", name) : 1;
        if (!a.hasPath("max-epochs")) {
            throw new ConfigException("sweep spec " + name + ": sweep.asha.max-epochs is missing: the epochs a trial that is "
                    + "never stopped trains");
        }
        int max = integer(a, "max-epochs", "sweep.asha.max-epochs", name);
        int eta = a.hasPath("reduction-factor") ? integer(a, "reduction-factor", "sweep.asha.reduction-factor", name) : 3;
        if (min < 1 || max <= min || max > 10_000) {
            throw new ConfigException("sweep spec " + name + ": sweep.asha.min-epochs = " + min + ", max-epochs = " + max
                    + ": expected 1 <= min-epochs < max-epochs <= 10000");
        }
        if (eta < 2 || eta > 100) {
            throw new ConfigException("sweep spec " + name + ": sweep.asha.reduction-factor = " + eta
                    + ": expected an integer in [2, 100] (3 keeps the best third at each rung)");
        }
        String metric = a.hasPath("metric") ? string(a, "metric", name) : "val_accuracy";
        if (!List.of("val_accuracy", "val_loss").contains(metric)) {
            throw new ConfigException("sweep spec " + name + ": sweep.asha.metric = " + metric
                    + ": expected val_accuracy or val_loss (on the validation split)");
        }
        String mode = a.hasPath("mode") ? string(a, "mode", name) : metric.equals("val_loss") ? "min" : "max";
        if (!List.of("min", "max").contains(mode)) {
            throw new ConfigException("sweep spec " + name + ": sweep.asha.mode = " + mode + ": expected min or max");
        }
        return new Asha(min, max, eta, metric, mode);
    }

    private static Map<String, List<ConfigValue>> grid(Config grid, String name, String section) {
        Map<String, List<ConfigValue>> values = new LinkedHashMap<>();
        if (grid.isEmpty()) {
            throw new ConfigException("sweep spec " + name + ": " + section + " is empty: give at least one key and its values");
        }
        for (Map.Entry<String, ConfigValue> e : new TreeMap<>(flat(grid)).entrySet()) {
            String key = section + "." + e.getKey();
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

    private static Map<String, Distribution> space(Config space, String name, String section) {
        if (space.isEmpty()) {
            throw new ConfigException("sweep spec " + name + ": " + section + " is empty: give at least one key");
        }
        Map<String, Distribution> dims = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> e : flat(space).entrySet()) {
            String path = e.getKey();
            String kind = DISTRIBUTIONS.stream().filter(d -> path.endsWith("." + d)).findFirst().orElseThrow(() ->
                    new ConfigException("sweep spec " + name + ": " + section + "." + path + ": expected one of "
                            + DISTRIBUTIONS + " under each key, e.g. { log-uniform = [0.0001, 0.01] }"));
            String key = path.substring(0, path.length() - kind.length() - 1);
            String where = section + "." + path;
            if (dims.containsKey(key)) {
                throw new ConfigException("sweep spec " + name + ": " + section + "." + key + ": one distribution per key");
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

    /** Refuses a key of {@code c} that is not in {@code known}, naming it and the known ones. */
    private static void checkKeys(Config c, Set<String> known, String section, String name) {
        for (String key : c.root().keySet()) {
            if (!known.contains(key)) {
                throw new ConfigException("sweep spec " + name + ": unknown key '" + section + "." + key + "'; known: "
                        + new java.util.TreeSet<>(known));
            }
        }
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
