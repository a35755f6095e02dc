package dev.imgtrain.config;

import com.typesafe.config.Config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A dense network as a preset describes it ({@code conf/models/*.conf}, overridable under {@code model.*}). Input and
 * output sizes are not here: they come from the dataset's {@code _dataset.json}.
 */
public record NetworkSpec(List<Hidden> hidden, String outputActivation, String loss, String weightInit,
                          Updater updater, int batchSize, String layerImplementation) {

    static final List<String> ACTIVATIONS = List.of("relu", "tanh", "sigmoid", "softmax", "identity", "elu", "leakyrelu");
    static final List<String> LOSSES = List.of("mcxent", "negativeloglikelihood", "mse");
    static final List<String> WEIGHT_INITS = List.of("xavier", "xavier_uniform", "relu", "relu_uniform", "lecun_normal");
    static final List<String> UPDATERS = List.of("sgd", "rmsprop", "adam", "nesterovs");
    static final List<String> IMPLEMENTATIONS = List.of("java", "nd4j");
    /**
     * {@code model.layer-implementation}: fused = one fused CPU training step per mini-batch ({@code FusedStep}; DL4J's
     * ops where it cannot run, e.g. the CUDA backend), gemm = {@code GemmLayers} (DL4J's layers, forward product as one
     * gemm), dl4j = DL4J's own.
     */
    static final List<String> LAYER_IMPLEMENTATIONS = List.of("fused", "gemm", "dl4j");

    /** One hidden dense layer. */
    public record Hidden(int units, String activation) {
    }

    /**
     * The optimiser; {@code rmsDecay} and {@code epsilon} apply to RMSProp (and epsilon to Adam). {@code implementation}
     * ({@code model.updater.implementation}): {@code java} (default) runs RMSProp's update as imgtrain's Java loop
     * ({@link CpuRmsProp}), {@code nd4j} as ND4J's own op; the other updaters are always ND4J's.
     */
    public record Updater(String name, double learningRate, double rmsDecay, double epsilon, double momentum,
                          String implementation) {
    }

    public NetworkSpec {
        hidden = List.copyOf(hidden);
    }

    public static NetworkSpec from(Config model) {
        List<Hidden> layers = new ArrayList<>();
        List<? extends Config> list = model.getConfigList("hidden");
        for (int i = 0; i < list.size(); i++) {
            Config layer = list.get(i);
            String key = "model.hidden[" + i + "]";
            int units = layer.getInt("units");
            if (units < 1 || units > 1 << 16) {
                throw new ConfigException(key + ".units = " + units + ": expected an integer in [1, 65536]");
            }
            layers.add(new Hidden(units, pick(layer.getString("activation"), key + ".activation", ACTIVATIONS)));
        }
        Config u = model.getConfig("updater");
        Updater updater = new Updater(
                pick(u.getString("name"), "model.updater.name", UPDATERS),
                Checks.positive(u, "learning-rate", "model.updater.learning-rate"),
                u.hasPath("rms-decay") ? u.getDouble("rms-decay") : 0.95,
                u.hasPath("epsilon") ? u.getDouble("epsilon") : 1e-8,
                u.hasPath("momentum") ? u.getDouble("momentum") : 0.9,
                u.hasPath("implementation")
                        ? pick(u.getString("implementation"), "model.updater.implementation", IMPLEMENTATIONS) : "java");
        int batch = model.getInt("batch-size");
        if (batch < 1 || batch > 1 << 16) {
            throw new ConfigException("model.batch-size = " + batch + ": expected an integer in [1, 65536]");
        }
        return new NetworkSpec(layers,
                pick(model.getString("output-activation"), "model.output-activation", ACTIVATIONS),
                pick(model.getString("loss"), "model.loss", LOSSES),
                pick(model.getString("weight-init"), "model.weight-init", WEIGHT_INITS),
                updater, batch,
                model.hasPath("layer-implementation")
                        ? pick(model.getString("layer-implementation"), "model.layer-implementation", LAYER_IMPLEMENTATIONS)
                        : "fused");
    }

    /** This network with RMSProp's update done by {@code implementation} ({@code java} or {@code nd4j}). */
    public NetworkSpec withUpdaterImplementation(String implementation) {
        Updater u = updater;
        return new NetworkSpec(hidden, outputActivation, loss, weightInit, new Updater(u.name(), u.learningRate(),
                u.rmsDecay(), u.epsilon(), u.momentum(), pick(implementation, "implementation", IMPLEMENTATIONS)), batchSize,
                layerImplementation);
    }

    /** This network trained by {@code implementation} ({@code fused}, {@code gemm} or {@code dl4j}). */
    public NetworkSpec withLayerImplementation(String implementation) {
        return new NetworkSpec(hidden, outputActivation, loss, weightInit, updater, batchSize,
                pick(implementation, "layer-implementation", LAYER_IMPLEMENTATIONS));
    }

    private static String pick(String value, String key, List<String> allowed) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (!allowed.contains(v)) {
            throw new ConfigException(key + " = '" + value + "': expected one of " + allowed);
        }
        return v;
    }
}
