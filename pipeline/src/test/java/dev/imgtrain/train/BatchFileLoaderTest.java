package dev.imgtrain.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

class BatchFileLoaderTest {
    private static Source local(Path file) {
        return new Source() {
            @Override
            public InputStream getInputStream() {
                throw new AssertionError("a local batch file is read with java.nio, not through the source");
            }

            @Override
            public String getPath() {
                return "file:" + file;
            }
        };
    }

    private static Path write(Path dir, String name, long seed) throws Exception {
        Nd4j.getRandom().setSeed(seed);
        DataSet batch = new DataSet(Nd4j.rand(DataType.FLOAT, 6, 4), Nd4j.rand(DataType.FLOAT, 6, 2));
        return Files.write(dir.resolve(name), BatchFile.encode(batch));
    }

    /**
     * Without prefetching, an unkept local batch is read into the arrays of this thread's last one, with its own
     * values; with prefetching every batch has arrays of its own (DL4J's loader thread loads ahead of the worker).
     */
    @Test
    void withoutPrefetchingTheThreadsLastUnkeptBatchLendsItsArrays(@TempDir Path dir) throws Exception {
        Path a = write(dir, "a.bin", 1);
        Path b = write(dir, "b.bin", 2);
        float[][] aFeatures = BatchFile.read(a, "a").getFeatures().toFloatMatrix();
        float[][] bFeatures = BatchFile.read(b, "b").getFeatures().toFloatMatrix();

        BatchFileLoader inTask = new BatchFileLoader(0, true);
        DataSet first = inTask.load(local(a));
        assertArrayEquals(aFeatures, first.getFeatures().toFloatMatrix());
        DataSet second = inTask.load(local(b));
        assertSame(first.getFeatures(), second.getFeatures());
        assertSame(first.getLabels(), second.getLabels());
        assertArrayEquals(bFeatures, second.getFeatures().toFloatMatrix());

        BatchFileLoader prefetched = new BatchFileLoader(0, false);
        DataSet third = prefetched.load(local(a));
        DataSet fourth = prefetched.load(local(b));
        assertNotSame(third.getFeatures(), fourth.getFeatures());
        assertNotSame(second.getFeatures(), fourth.getFeatures());
        assertArrayEquals(aFeatures, third.getFeatures().toFloatMatrix());
        assertArrayEquals(bFeatures, fourth.getFeatures().toFloatMatrix());
    }
}
