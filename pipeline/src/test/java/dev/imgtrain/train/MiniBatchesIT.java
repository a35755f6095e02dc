package dev.imgtrain.train;

import dev.imgtrain.testing.LocalSpark;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mini-batch files training reads: every example exactly once, batches full but for each task's last, the same
 * files for the same seed (what makes runs reproducible) and a different shuffle for another seed.
 */
class MiniBatchesIT {
    private static final int EXAMPLES = 103;
    private static SparkSession spark;
    private static Dataset<Row> frame;
    @TempDir
    static java.nio.file.Path tmp;

    @BeforeAll
    static void setUp() {
        spark = LocalSpark.start("mini-batches");
        List<Row> rows = new ArrayList<>();
        for (long id = 0; id < EXAMPLES; id++) {
            int label = (int) (id % 2);
            // features[0] carries the id, so every example can be found again in the files.
            rows.add(RowFactory.create(id, new float[]{id, 0.5f, 0.25f, label},
                    new float[]{label == 0 ? 1f : 0f, label == 1 ? 1f : 0f}));
        }
        StructType schema = new StructType()
                .add("id", DataTypes.LongType)
                .add(MiniBatches.FEATURES, DataTypes.createArrayType(DataTypes.FloatType))
                .add(MiniBatches.LABELS, DataTypes.createArrayType(DataTypes.FloatType));
        frame = spark.createDataFrame(rows, schema);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    private static List<String> export(String dir, long seed) {
        return MiniBatches.export(frame, 10, 2, seed, new Path(tmp.resolve(dir).toUri()),
                spark.sparkContext().hadoopConfiguration());
    }

    /** Each file's ids, in file order, read back with the loader training uses. */
    private static List<List<Integer>> ids(List<String> paths) throws IOException {
        List<List<Integer>> out = new ArrayList<>();
        for (String p : paths) {
            DataSet batch = new BatchFileLoader(0, false).load(new Source() {
                @Override
                public InputStream getInputStream() throws IOException {
                    return Files.newInputStream(java.nio.file.Path.of(URI.create(p)));
                }

                @Override
                public String getPath() {
                    return p;
                }
            });
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < batch.numExamples(); i++) {
                ids.add((int) batch.getFeatures().getFloat(i, 0));
                int label = (int) batch.getFeatures().getFloat(i, 3);
                assertEquals(1f, batch.getLabels().getFloat(i, label), "one-hot label travels with its example");
            }
            assertEquals(4, batch.getFeatures().columns());
            out.add(ids);
        }
        return out;
    }

    @Test
    void everyExampleOnceInFullBatchesSameFilesForTheSameSeed() throws IOException {
        List<String> a = export("a", 7);
        List<String> sorted = new ArrayList<>(a);
        sorted.sort(null);
        assertEquals(sorted, a, "paths come back sorted");
        assertTrue(a.stream().allMatch(p -> p.startsWith("file:/") && p.endsWith(".bin")), a.toString());

        List<List<Integer>> batches = ids(a);
        Map<Integer, Integer> seen = new HashMap<>();
        Map<String, Integer> shortPerTask = new HashMap<>();
        for (int i = 0; i < batches.size(); i++) {
            batches.get(i).forEach(id -> seen.merge(id, 1, Integer::sum));
            String task = a.get(i).replaceAll(".*/(part-\\d+)-batch-\\d+(-partial)?\\.bin$", "$1");
            assertEquals(batches.get(i).size() < 10, MiniBatches.isPartial(a.get(i)), "a short file's name says so: " + a.get(i));
            if (batches.get(i).size() < 10) {
                shortPerTask.merge(task, 1, Integer::sum);
                assertTrue(a.get(i).equals(a.stream().filter(p -> p.contains(task)).reduce((x, y) -> y).orElseThrow()),
                        "only a task's last batch may be short: " + a.get(i));
            }
        }
        assertEquals(EXAMPLES, seen.size(), "every example is in some batch");
        assertTrue(seen.values().stream().allMatch(n -> n == 1), "and in one only: " + seen);
        assertTrue(shortPerTask.values().stream().allMatch(n -> n == 1), shortPerTask.toString());
        assertTrue(batches.size() >= 11 && batches.size() <= 12, "103 examples over 2 tasks in batches of 10: " + batches.size());

        assertEquals(batches, ids(export("b", 7)), "the same seed gives the same batches, example for example");
        List<List<Integer>> other = ids(export("c", 8));
        assertNotEquals(batches, other, "another seed shuffles differently");
        assertEquals(EXAMPLES, other.stream().mapToInt(List::size).sum());
    }
}
