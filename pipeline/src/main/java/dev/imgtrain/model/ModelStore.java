package dev.imgtrain.model;

import dev.imgtrain.store.Warehouse;

import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Saves and loads DL4J models (ModelSerializer zip, updater state included) on any Hadoop file system. */
public final class ModelStore {
    private ModelStore() {
    }

    public static void save(Warehouse warehouse, Path target, MultiLayerNetwork network) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 20);
        try {
            // The saved configuration names DL4J's own layers and updaters, so that model.zip loads without imgtrain's classes.
            NetworkFactory.portable(network.getLayerWiseConfigurations(), () -> {
                ModelSerializer.writeModel(network, bytes, true);
                return null;
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the model for " + target + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot serialise the model for " + target + ": " + e.getMessage(), e);
        }
        warehouse.writeAtomically(target, bytes.toByteArray());
    }

    public static MultiLayerNetwork load(Warehouse warehouse, Path source) {
        try (InputStream in = warehouse.fs().open(source)) {
            return ModelSerializer.restoreMultiLayerNetwork(in, true);
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": cannot load the model: " + e.getMessage(), e);
        }
    }
}
