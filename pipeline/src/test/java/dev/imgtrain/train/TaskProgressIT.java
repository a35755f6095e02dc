package dev.imgtrain.train;

import dev.imgtrain.testing.LocalSpark;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A marked Spark job's tasks advance the progress line as they end; jobs that are not marked show nothing. */
class TaskProgressIT {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("task-progress");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void markedJobsAdvanceTheLine() throws Exception {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        List<String> log = new ArrayList<>();
        Progress progress = new Progress(Progress.Mode.BAR, new PrintStream(terminal, true, StandardCharsets.UTF_8),
                log::add, System::currentTimeMillis, null);
        TaskProgress listener = new TaskProgress(progress);
        spark.sparkContext().addSparkListener(listener);
        try {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            jsc.parallelize(IntStream.range(0, 100).boxed().toList(), 4).count(); // not marked
            long n = TaskProgress.during(spark.sparkContext(), "ingest test",
                    () -> jsc.parallelize(IntStream.range(0, 100).boxed().toList(), 8).map(i -> i * 2).count());
            assertEquals(100, n);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            String drawn;
            do {
                Thread.sleep(50);
                drawn = terminal.toString(StandardCharsets.UTF_8);
            } while (!drawn.endsWith("\r\033[K") && System.nanoTime() < deadline);
            assertTrue(drawn.contains("\ringest test [>.......................] 0/8 tasks"), drawn);
            for (int i = 1; i <= 8; i++) {
                assertTrue(drawn.contains("] " + i + "/8 tasks"), i + " of 8: " + drawn);
            }
            assertTrue(drawn.endsWith("\r\033[K"), "cleared when the job ended: " + drawn);
            assertFalse(drawn.contains("/4 tasks"), "the unmarked job shows nothing");
            assertEquals(List.of(), log);
        } finally {
            spark.sparkContext().removeSparkListener(listener);
        }
    }
}
