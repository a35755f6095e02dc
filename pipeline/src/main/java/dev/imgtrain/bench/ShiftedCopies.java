package dev.imgtrain.bench;

import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.preprocess.DatasetReader;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A dataset enlarged by deterministic shifts of its training images (the bench's data beyond memory, issue 18):
 * each train image of {@code from} appears {@code copies} times, shifted by 0 or 1-2 pixels (zero fill), under ids
 * {@code id * copies + k}; the test split is kept as it is. Written as a dataset of its own (raw table and manifest)
 * through the warehouse's commit, by Spark tasks: the driver never holds the images.
 */
public final class ShiftedCopies {
    private static final Logger LOG = LoggerFactory.getLogger(ShiftedCopies.class);
    /** (dx, dy) of copy k; copy 0 is the image itself. */
    static final int[][] SHIFTS = {{0, 0}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, 1}, {-1, -1}, {1, -1}, {-1, 1}, {2, 0},
            {-2, 0}, {0, 2}, {0, -2}, {2, 2}, {-2, -2}, {2, -2}};

    private ShiftedCopies() {
    }

    /** Writes {@code to} unless it is already there with the expected counts; returns its manifest. */
    public static DatasetManifest write(SparkSession spark, Warehouse warehouse, String from, String to, int copies) {
        if (copies < 1 || copies > SHIFTS.length) {
            throw new IllegalArgumentException("copies = " + copies + ": expected 1-" + SHIFTS.length);
        }
        DatasetManifest source = DatasetReader.manifest(warehouse, from);
        Map<String, Long> counts = new LinkedHashMap<>(source.counts());
        counts.computeIfPresent("train", (k, v) -> v * copies);
        if (warehouse.exists(warehouse.manifest(to)) && DatasetReader.manifest(warehouse, to).counts().equals(counts)) {
            LOG.info("bench: {} is there ({}); not written again", to, counts);
            return DatasetReader.manifest(warehouse, to);
        }
        int height = source.shape().get(0);
        int width = source.shape().get(1);
        int channels = source.shape().get(2);
        Dataset<Row> raw = spark.read().parquet(warehouse.rawDir(from).toString());
        Dataset<Row> enlarged = raw.flatMap((FlatMapFunction<Row, Row>) r -> {
            long id = r.getLong(r.fieldIndex("id"));
            String split = r.getString(r.fieldIndex("split"));
            int label = r.getInt(r.fieldIndex("label"));
            byte[] image = (byte[]) r.get(r.fieldIndex("image"));
            int n = split.equals("train") ? copies : 1;
            List<Row> out = new ArrayList<>(n);
            for (int k = 0; k < n; k++) {
                out.add(RowFactory.create(id * copies + k, split, label, shift(image, height, width, channels, SHIFTS[k])));
            }
            return out.iterator();
        }, Encoders.row(raw.schema()));
        Map<String, Map<String, Long>> classCounts = new LinkedHashMap<>();
        source.classCounts().forEach((split, perClass) -> {
            Map<String, Long> c = new LinkedHashMap<>();
            perClass.forEach((name, count) -> c.put(name, split.equals("train") ? count * copies : count));
            classCounts.put(split, c);
        });
        spark.sparkContext().setJobDescription("bench: " + to + " = " + from + " with " + copies + " shifted copies of train");
        try {
            Scratch.use(warehouse, spark.sparkContext(), "shifted-" + to, tmp -> {
                enlarged.write().parquet(new Path(tmp, "raw").toString());
                warehouse.commitDirectory(new Path(tmp, "raw"), warehouse.rawDir(to));
                return null;
            });
        } finally {
            spark.sparkContext().setJobDescription(null);
        }
        DatasetManifest manifest = new DatasetManifest(to, source.shape(), source.pixelLayout(), source.classes(), counts,
                classCounts, source.sources(), Instant.now().toString());
        warehouse.writeJson(warehouse.manifest(to), manifest);
        LOG.info("bench: wrote {} ({}) from {}", to, counts, from);
        return manifest;
    }

    /** The image moved by (dx, dy) pixels in every channel plane, zeros where it came from outside. */
    static byte[] shift(byte[] image, int height, int width, int channels, int[] d) {
        if (d[0] == 0 && d[1] == 0) {
            return image;
        }
        byte[] out = new byte[image.length];
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < height; y++) {
                int sy = y - d[1];
                if (sy < 0 || sy >= height) {
                    continue;
                }
                for (int x = 0; x < width; x++) {
                    int sx = x - d[0];
                    if (sx >= 0 && sx < width) {
                        out[c * plane + y * width + x] = image[c * plane + sy * width + sx];
                    }
                }
            }
        }
        return out;
    }
}
