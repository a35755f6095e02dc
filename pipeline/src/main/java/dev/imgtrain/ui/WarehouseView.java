package dev.imgtrain.ui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.registry.ModelRegistry;
import dev.imgtrain.report.ImageGrid;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.sweep.SweepCatalog;
import dev.imgtrain.sweep.SweepJob;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the UI reads from a warehouse, through {@code store/}, {@code sweep/} and {@code registry/}: runs
 * ({@link RunIndex}), sweeps, models, datasets and their sample images. A name that comes from a request is only
 * used after it was found in a listing of the directory it names an entry of.
 */
final class WarehouseView {
    static final int SAMPLES = 40;
    private final Warehouse warehouse;
    private final RunIndex runs;
    private final Map<String, byte[]> samples = new ConcurrentHashMap<>();

    WarehouseView(Warehouse warehouse) {
        this.warehouse = warehouse;
        this.runs = new RunIndex(warehouse);
    }

    String uri() {
        return warehouse.root().toString();
    }

    RunIndex runs() {
        return runs;
    }

    /** A file of a run's report directory, when {@code name} is one of them. */
    Optional<byte[]> reportFile(String runId, String name) throws IOException {
        if (runs.run(runId).isEmpty() || !runs.reportFiles(runId).contains(name)) {
            return Optional.empty();
        }
        return Optional.of(warehouse.readBytes(new Path(new Path(warehouse.runDir(runId), "report"), name)));
    }

    List<JsonNode> sweeps() {
        return new SweepCatalog(warehouse).list();
    }

    /** A sweep's summary and leaderboard, when {@code id} is a directory under sweeps/ that holds a sweep.json. */
    Optional<JsonNode> sweep(String id) throws IOException {
        if (!children(new Path(warehouse.root(), "sweeps")).contains(id)
                || !warehouse.fs().exists(new Path(SweepJob.sweepDir(warehouse, id), "sweep.json"))) {
            return Optional.empty();
        }
        return Optional.of(new SweepCatalog(warehouse).show(id));
    }

    /** Names of the dataset directories under {@code models/} (each has had a promotion). */
    List<String> modelDatasets() throws IOException {
        return children(new Path(warehouse.root(), "models"));
    }

    ModelRegistry.Current currentModel(String dataset) {
        return new ModelRegistry(warehouse).current(dataset);
    }

    List<JsonNode> promotions(String dataset) {
        return new ModelRegistry(warehouse).history(dataset);
    }

    List<String> datasets() throws IOException {
        List<String> names = new ArrayList<>();
        for (String name : children(new Path(warehouse.root(), "datasets"))) {
            if (warehouse.fs().exists(warehouse.manifest(name))) {
                names.add(name);
            }
        }
        return names;
    }

    /** A dataset's {@code _dataset.json}, when {@code name} is a dataset of the warehouse. */
    Optional<JsonNode> manifest(String name) throws IOException {
        if (!children(new Path(warehouse.root(), "datasets")).contains(name)
                || !warehouse.fs().exists(warehouse.manifest(name))) {
            return Optional.empty();
        }
        return Optional.of(warehouse.readJson(warehouse.manifest(name), JsonNode.class));
    }

    /**
     * A grid of the first {@link #SAMPLES} images of the dataset's raw table (its first Parquet file), titled with
     * their classes; read with Parquet's own reader, no Spark. Kept once made (a committed table does not change).
     */
    Optional<byte[]> samples(String name) throws IOException {
        Optional<JsonNode> manifest = manifest(name);
        if (manifest.isEmpty()) {
            return Optional.empty();
        }
        byte[] cached = samples.get(name);
        if (cached != null) {
            return Optional.of(cached);
        }
        JsonNode m = manifest.get();
        int height = m.path("shape").path(0).asInt();
        int width = m.path("shape").path(1).asInt();
        int channels = m.path("shape").path(2).asInt(1);
        List<String> classes = new ArrayList<>();
        m.path("classes").forEach(c -> classes.add(c.asText()));
        List<ImageGrid.Tile> tiles = new ArrayList<>();
        for (String file : children(warehouse.rawDir(name))) {
            if (!file.endsWith(".parquet") || tiles.size() >= SAMPLES) {
                continue;
            }
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(),
                    new Path(warehouse.rawDir(name), file)).withConf(warehouse.fs().getConf()).build()) {
                for (Group g = reader.read(); g != null && tiles.size() < SAMPLES; g = reader.read()) {
                    int label = g.getInteger("label", 0);
                    tiles.add(new ImageGrid.Tile(g.getBinary("image", 0).getBytes(),
                            label >= 0 && label < classes.size() ? classes.get(label) : Integer.toString(label), null, false));
                }
            }
        }
        if (tiles.isEmpty()) {
            return Optional.empty();
        }
        byte[] png = ImageGrid.png(tiles, height, width, channels, 10);
        samples.put(name, png);
        return Optional.of(png);
    }

    /** Names of the directories (and Parquet files) directly under {@code dir}, sorted; empty when it does not exist. */
    List<String> children(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try {
            for (FileStatus s : warehouse.fs().listStatus(dir)) {
                if (s.isDirectory() || s.getPath().getName().endsWith(".parquet")) {
                    names.add(s.getPath().getName());
                }
            }
        } catch (FileNotFoundException none) {
            return names;
        }
        names.sort(String::compareTo);
        return names;
    }
}
