package dev.imgtrain.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BatchFileTest {
    private static DataSet batch(int rows, int features, int labels) {
        Nd4j.getRandom().setSeed(7);
        return new DataSet(Nd4j.rand(DataType.FLOAT, rows, features), Nd4j.rand(DataType.FLOAT, rows, labels));
    }

    @Test
    void roundTripsEveryValueAndShape() throws Exception {
        DataSet batch = batch(7, 13, 3);
        byte[] bytes = BatchFile.encode(batch);
        assertEquals(BatchFile.HEADER_BYTES + 4 * 7 * (13 + 3), bytes.length);
        DataSet back = BatchFile.decode(bytes, "f.bin");
        assertArrayEquals(new long[]{7, 13}, back.getFeatures().shape());
        assertArrayEquals(new long[]{7, 3}, back.getLabels().shape());
        assertArrayEquals(batch.getFeatures().toFloatMatrix(), back.getFeatures().toFloatMatrix());
        assertArrayEquals(batch.getLabels().toFloatMatrix(), back.getLabels().toFloatMatrix());
    }

    @Test
    void aViewIsWrittenAsItsOwnValues() throws Exception {
        DataSet whole = batch(6, 4, 2);
        DataSet firstRows = new DataSet(whole.getFeatures().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3),
                org.nd4j.linalg.indexing.NDArrayIndex.all()), whole.getLabels().get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3), org.nd4j.linalg.indexing.NDArrayIndex.all()));
        DataSet back = BatchFile.decode(BatchFile.encode(firstRows), "v.bin");
        assertArrayEquals(firstRows.getFeatures().toFloatMatrix(), back.getFeatures().toFloatMatrix());
    }

    @Test
    void truncatedOrForeignBytesAreRejectedNamingTheFile() {
        byte[] bytes = BatchFile.encode(batch(5, 4, 2));
        IOException truncated = assertThrows(IOException.class,
                () -> BatchFile.decode(Arrays.copyOf(bytes, bytes.length - 4), "part-00001-batch-000002.bin"));
        assertEquals("part-00001-batch-000002.bin: 136 bytes, expected 140 for 5 rows of 4 features and 2 labels "
                + "(truncated or overwritten)", truncated.getMessage());
        byte[] foreign = bytes.clone();
        foreign[0] = 'X';
        assertEquals("x.bin: not an imgtrain mini-batch file (version 1)",
                assertThrows(IOException.class, () -> BatchFile.decode(foreign, "x.bin")).getMessage());
    }

    /** BatchFile.read (a local file straight into the arrays) gives what decode gives, and the same errors. */
    @Test
    void aLocalFileReadsAsItsBytesDecodeAndBadFilesAreNamed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        DataSet batch = batch(9, 11, 4);
        byte[] bytes = BatchFile.encode(batch);
        java.nio.file.Path file = java.nio.file.Files.write(dir.resolve("b.bin"), bytes);
        DataSet back = BatchFile.read(file, "file:" + file);
        assertArrayEquals(new long[]{9, 11}, back.getFeatures().shape());
        assertArrayEquals(batch.getFeatures().toFloatMatrix(), back.getFeatures().toFloatMatrix());
        assertArrayEquals(batch.getLabels().toFloatMatrix(), back.getLabels().toFloatMatrix());

        java.nio.file.Files.write(file, Arrays.copyOf(bytes, bytes.length - 4));
        assertEquals("t.bin: " + (bytes.length - 4) + " bytes, expected " + bytes.length + " for 9 rows of 11 features "
                + "and 4 labels (truncated or overwritten)",
                assertThrows(IOException.class, () -> BatchFile.read(file, "t.bin")).getMessage());
        java.nio.file.Files.write(file, Arrays.copyOf(bytes, 7));
        assertEquals("s.bin: not an imgtrain mini-batch file (version 1)",
                assertThrows(IOException.class, () -> BatchFile.read(file, "s.bin")).getMessage());
    }

    /**
     * Read into a spare batch's arrays: the same arrays come back holding the new file's values; a batch of another
     * shape (a partition's last, shorter batch) and a view get arrays of their own, and the spare is left as it was.
     */
    @Test
    void aSpareBatchOfTheSameShapeIsOverwrittenAndOthersAreNot(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        DataSet first = batch(8, 5, 3);
        Nd4j.getRandom().setSeed(11);
        DataSet second = new DataSet(Nd4j.rand(DataType.FLOAT, 8, 5), Nd4j.rand(DataType.FLOAT, 8, 3));
        java.nio.file.Path a = java.nio.file.Files.write(dir.resolve("a.bin"), BatchFile.encode(first));
        java.nio.file.Path b = java.nio.file.Files.write(dir.resolve("b.bin"), BatchFile.encode(second));
        java.nio.file.Path shorter = java.nio.file.Files.write(dir.resolve("c.bin"), BatchFile.encode(batch(3, 5, 3)));

        DataSet spare = BatchFile.read(a, "a.bin", null);
        float[][] spareFeatures = spare.getFeatures().toFloatMatrix();
        DataSet other = BatchFile.read(shorter, "c.bin", spare);
        assertNotSame(spare.getFeatures(), other.getFeatures());
        assertNotSame(spare.getLabels(), other.getLabels());
        assertArrayEquals(new long[]{3, 5}, other.getFeatures().shape());
        assertArrayEquals(spareFeatures, spare.getFeatures().toFloatMatrix(), "the spare untouched");

        DataSet again = BatchFile.read(b, "b.bin", spare);
        assertSame(spare.getFeatures(), again.getFeatures());
        assertSame(spare.getLabels(), again.getLabels());
        assertArrayEquals(second.getFeatures().toFloatMatrix(), again.getFeatures().toFloatMatrix());
        assertArrayEquals(second.getLabels().toFloatMatrix(), again.getLabels().toFloatMatrix());

        DataSet whole = batch(16, 5, 3);
        DataSet view = new DataSet(whole.getFeatures().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 8),
                org.nd4j.linalg.indexing.NDArrayIndex.all()), whole.getLabels().get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 8), org.nd4j.linalg.indexing.NDArrayIndex.all()));
        float[][] wholeBefore = whole.getFeatures().toFloatMatrix();
        DataSet notIntoView = BatchFile.read(a, "a.bin", view);
        assertNotSame(view.getFeatures(), notIntoView.getFeatures());
        assertArrayEquals(first.getFeatures().toFloatMatrix(), notIntoView.getFeatures().toFloatMatrix());
        assertArrayEquals(wholeBefore, whole.getFeatures().toFloatMatrix(), "the view's array untouched");
    }
}
