package dev.imgtrain.train;

import dev.imgtrain.store.NioLocalFileSystem;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class SparkDefaultsTest {
    private static final String FILE_IMPL = "spark.hadoop." + NioLocalFileSystem.KEY;

    @Test
    void addsKryoDirectResultsAndTheLocalFileSystemWhenNothingIsGiven() {
        Map<String, String> local = SparkDefaults.settings(new SparkConf(false), "local[2]");
        assertEquals("org.apache.spark.serializer.KryoSerializer", local.get("spark.serializer"));
        assertEquals(KryoRegistration.class.getName(), local.get("spark.kryo.registrator"));
        assertEquals("64m", local.get("spark.task.maxDirectResultSize"));
        assertEquals(NioLocalFileSystem.class.getName(), local.get(FILE_IMPL));
        Map<String, String> cluster = SparkDefaults.settings(new SparkConf(false), "spark://127.0.0.1:7077");
        assertEquals("64m", cluster.get("spark.task.maxDirectResultSize"));
        assertFalse(cluster.containsKey(FILE_IMPL), "a cluster's file: stays Hadoop's own");
    }

    @Test
    void leavesWhatIsGivenAlone() {
        SparkConf given = new SparkConf(false).set("spark.serializer", "org.apache.spark.serializer.JavaSerializer")
                .set("spark.task.maxDirectResultSize", "1m").set(FILE_IMPL, "org.apache.hadoop.fs.LocalFileSystem");
        assertEquals(Map.of(), SparkDefaults.settings(given, "local[2]"));
    }
}
