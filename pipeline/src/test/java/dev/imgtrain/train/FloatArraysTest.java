package dev.imgtrain.train;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.deeplearning4j.spark.data.loader.RemoteFileSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FloatArraysTest {
    private static float[] values(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i) * 1000f + i;
        }
        return v;
    }

    @Test
    void aMatrixFromFloatsEqualsNd4jsOwn() {
        float[] v = values(6 * 5);
        INDArray fast = FloatArrays.matrix(v, 6, 5);
        INDArray nd4j = Nd4j.create(v, new long[]{6, 5}, 'c');
        assertEquals(nd4j, fast);
        assertEquals('c', fast.ordering());
        assertEquals(DataType.FLOAT, fast.dataType());
        v[0] = -1; // the array is a copy
        assertEquals(nd4j.getFloat(0, 0), fast.getFloat(0, 0));
        assertThrows(IllegalArgumentException.class, () -> FloatArrays.matrix(v, 4, 5));
    }

    @Test
    void aMatrixFromLittleEndianBytesAtAnOffset() {
        float[] v = values(3 * 7);
        ByteBuffer b = ByteBuffer.allocate(9 + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.position(9);
        b.asFloatBuffer().put(v);
        assertEquals(Nd4j.create(v, new long[]{3, 7}, 'c'), FloatArrays.matrix(b.array(), 9, 3, 7));
    }

    @Test
    void putWritesViewsFortranOrderAndDoublesAsTheirRowMajorFloats() {
        INDArray whole = Nd4j.create(values(8 * 6), new long[]{8, 6}, 'c');
        INDArray[] arrays = {whole, whole.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 5),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 4)), whole.dup('f'), whole.castTo(DataType.DOUBLE)};
        for (INDArray a : arrays) {
            ByteBuffer b = ByteBuffer.allocate(4 + 4 * (int) a.length()).order(ByteOrder.LITTLE_ENDIAN);
            b.position(4);
            FloatArrays.put(a, b);
            assertEquals(b.capacity(), b.position(), "position after the values");
            float[] back = new float[(int) a.length()];
            b.position(4);
            b.asFloatBuffer().get(back);
            assertArrayEquals(a.castTo(DataType.FLOAT).dup('c').data().asFloat(), back);
        }
    }

    @Test
    void insideAWorkspaceTheArrayIsTheWorkspaces() {
        WorkspaceConfiguration conf = WorkspaceConfiguration.builder().initialSize(1 << 20).build();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(conf, "float-arrays-test")) {
            INDArray a = FloatArrays.matrix(values(12), 3, 4);
            assertEquals(Nd4j.create(values(12), new long[]{3, 4}, 'c'), a);
            assertEquals(a.isAttached(), Nd4j.create(values(12), new long[]{3, 4}, 'c').isAttached(),
                    "attached like an array from Nd4j.create");
        }
    }

    @Test
    void theLoaderReadsLocalBatchFilesWithSpacesInTheirPath(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("with space"));
        DataSet batch = new DataSet(FloatArrays.matrix(values(10), 2, 5), FloatArrays.matrix(values(4), 2, 2));
        Path file = dir.resolve("part-00000-batch-000000.bin");
        Files.write(file, BatchFile.encode(batch));
        FileSystem fs = FileSystem.getLocal(new Configuration());
        String path = fs.makeQualified(new org.apache.hadoop.fs.Path(file.toUri())).toString();
        DataSet back = new BatchFileLoader(0, false).load(new RemoteFileSource(path, fs));
        assertEquals(batch.getFeatures(), back.getFeatures());
        assertEquals(batch.getLabels(), back.getLabels());
        assertFalse(Files.exists(dir.resolve(".part-00000-batch-000000.bin.crc")), "no checksum file was needed");
    }
}
