package dev.imgtrain.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A network's layers as Keras' {@code model.summary()} lists them: name and type, output shape, parameter count, and
 * the totals (407,050 for 784-512-10). Names follow Keras' for a Sequential of Dense layers: dense, dense_1, ...
 */
public record NetworkSummary(long inputs, List<Row> layers, long totalParams, long trainableParams) {

    /** One layer: Keras' name and type, its output shape, its activation (an extra column) and parameter count. */
    public record Row(String name, String type, String outputShape, String activation, long params) {
    }

    public NetworkSummary {
        layers = List.copyOf(layers);
    }

    public static NetworkSummary of(MultiLayerNetwork network) {
        List<Row> rows = new ArrayList<>();
        long inputs = -1;
        for (int i = 0; i < network.getnLayers(); i++) {
            Layer layer = network.getLayer(i);
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            String name = i == 0 ? "dense" : "dense_" + i;
            String shape = "?";
            String activation = "";
            if (conf instanceof FeedForwardLayer ff) {
                if (i == 0) {
                    inputs = ff.getNIn();
                }
                shape = "(None, " + ff.getNOut() + ")";
                activation = ff.getActivationFn() == null ? "" : ff.getActivationFn().toString().toLowerCase(Locale.ROOT);
            }
            String type = conf instanceof BaseOutputLayer ? "Dense, output" : conf instanceof FeedForwardLayer ? "Dense"
                    : conf.getClass().getSimpleName();
            rows.add(new Row(name, type, shape, activation, layer.numParams()));
        }
        long total = network.numParams();
        return new NetworkSummary(inputs, rows, total, total);
    }

    /** The summary as Keras prints it (fixed-width columns, totals with thousands separators). */
    public String text() {
        String rule = "_".repeat(65);
        String doubleRule = "=".repeat(65);
        StringBuilder s = new StringBuilder("Model: \"sequential\"\n").append(rule).append('\n');
        s.append(String.format(" %-27s %-25s %-10s%n", "Layer (type)", "Output Shape", "Param #"));
        s.append(doubleRule).append('\n');
        for (Row r : layers) {
            s.append(String.format(" %-27s %-25s %-10d%n", r.name() + " (" + r.type() + ")", r.outputShape(), r.params()));
        }
        s.append(doubleRule).append('\n');
        s.append(String.format(Locale.ROOT, "Total params: %,d%n", totalParams));
        s.append(String.format(Locale.ROOT, "Trainable params: %,d%n", trainableParams));
        s.append(String.format(Locale.ROOT, "Non-trainable params: %,d%n", totalParams - trainableParams));
        s.append(rule).append('\n');
        return s.toString();
    }
}
