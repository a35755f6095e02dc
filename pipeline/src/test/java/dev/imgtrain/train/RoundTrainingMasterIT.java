package dev.imgtrain.train;

import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RoundTrainingMasterIT {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("round-training-master");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void aRegisteredCountIsUsedOnceWithoutASparkJobThenDl4jCountsAgain() throws Exception {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        AtomicInteger jobs = new AtomicInteger();
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart jobStart) {
                jobs.incrementAndGet();
            }
        });
        RoundTrainingMaster master = new RoundTrainingMaster(new ParameterAveragingTrainingMaster.Builder(2, 4), false);
        JavaRDD<String> paths = jsc.parallelize(List.of("a", "b", "c"), 2);
        // A deliberately wrong size proves the registered count is what DL4J gets, not a count of the RDD.
        master.withKnownCount(paths, 7);
        assertEquals(7, master.getTotalDataSetObjectCount(paths));
        Thread.sleep(200);
        assertEquals(0, jobs.get(), "no Spark job for a registered count");
        assertEquals(3, master.getTotalDataSetObjectCount(paths), "used once; then DL4J's own count");
    }
}
