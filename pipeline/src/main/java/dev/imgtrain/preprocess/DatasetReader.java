package dev.imgtrain.preprocess;

import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.store.Warehouse;

/** Reads what earlier stages committed, with an error that names the stage to run when it is missing. */
public final class DatasetReader {
    private DatasetReader() {
    }

    public static DatasetManifest manifest(Warehouse warehouse, String dataset) {
        if (!warehouse.exists(warehouse.manifest(dataset))) {
            throw new IllegalStateException("dataset '" + dataset + "' is not ingested in " + warehouse.root()
                    + " (no " + warehouse.manifest(dataset) + "): run `imgtrain ingest --dataset " + dataset + "` first");
        }
        return warehouse.readJson(warehouse.manifest(dataset), DatasetManifest.class);
    }

    /** The manifest, after checking that preprocess has committed the features table too. */
    public static DatasetManifest featuresManifest(Warehouse warehouse, String dataset) {
        DatasetManifest manifest = manifest(warehouse, dataset);
        if (!warehouse.committed(warehouse.featuresDir(dataset))) {
            throw new IllegalStateException("dataset '" + dataset + "' has no features table in " + warehouse.root()
                    + " (no " + warehouse.featuresDir(dataset) + "/_SUCCESS): run `imgtrain preprocess --dataset " + dataset + "` first");
        }
        return manifest;
    }
}
