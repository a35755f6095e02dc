package dev.imgtrain.bench;

import dev.imgtrain.preprocess.DatasetReader;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;

/**
 * {@code imgtrain bench storage}: a dataset's features table (read once and cached) written as Parquet to each target
 * and read back in full, {@code repeats} times, alternating targets; medians and the ratio of each to the first.
 */
public final class StorageBench {
    private StorageBench() {
    }

    public static Map<String, Object> run(SparkSession spark, Warehouse warehouse, String dataset, List<String> targets,
                                          int repeats, File out) throws IOException {
        DatasetReader.featuresManifest(warehouse, dataset);
        Dataset<Row> features = spark.read().parquet(warehouse.featuresDir(dataset).toString())
                .persist(StorageLevel.MEMORY_ONLY());
        long rows = features.count();
        long values = features.agg(sum(size(col("features")))).first().getLong(0);
        Map<String, double[][]> seconds = new LinkedHashMap<>(); // target -> [write[], read[]]
        for (String t : targets) {
            seconds.put(t, new double[][]{new double[repeats], new double[repeats]});
        }
        for (int r = 0; r < repeats; r++) {
            for (String t : targets) {
                String dir = new Path(Warehouse.qualify(t), "features-bench").toString();
                long start = System.nanoTime();
                features.write().mode("overwrite").parquet(dir);
                seconds.get(t)[0][r] = (System.nanoTime() - start) / 1e9;
                start = System.nanoTime();
                long read = spark.read().parquet(dir).agg(sum(size(col("features")))).first().getLong(0);
                seconds.get(t)[1][r] = (System.nanoTime() - start) / 1e9;
                if (read != values) {
                    throw new IllegalStateException(dir + ": read back " + read + " feature values, wrote " + values);
                }
            }
        }
        features.unpersist();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("dataset", dataset);
        report.put("rows", rows);
        report.put("feature_values", values);
        report.put("repeats", repeats);
        report.put("spark_master", spark.sparkContext().master());
        List<Map<String, Object>> results = new ArrayList<>();
        double[] first = null;
        System.out.printf("%-44s %12s %12s %10s %10s%n", "target (" + rows + " rows)", "write s", "read s", "write ÷1st", "read ÷1st");
        for (String t : targets) {
            double w = Figures.median(seconds.get(t)[0]);
            double rd = Figures.median(seconds.get(t)[1]);
            if (first == null) {
                first = new double[]{w, rd};
            }
            System.out.printf("%-44s %12.2f %12.2f %10.2f %10.2f%n", t, w, rd, w / first[0], rd / first[1]);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("target", t);
            m.put("write_seconds", seconds.get(t)[0]);
            m.put("read_seconds", seconds.get(t)[1]);
            m.put("write_median_seconds", w);
            m.put("read_median_seconds", rd);
            m.put("write_vs_first_ratio", w / first[0]);
            m.put("read_vs_first_ratio", rd / first[1]);
            results.add(m);
        }
        report.put("results", results);
        if (out != null) {
            Warehouse.JSON.writeValue(out, report);
        }
        return report;
    }
}
