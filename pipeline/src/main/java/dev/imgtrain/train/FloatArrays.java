package dev.imgtrain.train;

import dev.imgtrain.model.RowMajor;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;

/**
 * float32 matrices in and out of ND4J with one memory copy. ND4J 1.0.0-M2's {@code Nd4j.create(float[], shape, 'c')}
 * took 0.7-1.4 ms for a 64×784 batch (200 KB) on this machine, against 0.06-0.2 ms for a copy into the new array's
 * memory; mini-batch files are decoded once per batch per epoch when they do not fit the batch cache. On the CPU
 * backend the copy goes straight into (or out of) the array's host memory; elsewhere (CUDA, whose arrays also live on
 * the device) ND4J's own calls are used.
 */
final class FloatArrays {
    private static final boolean DIRECT = Nd4j.getBackend().getClass().getSimpleName().equals("CpuBackend");
    private static final boolean LITTLE_ENDIAN_HOST = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private FloatArrays() {
    }

    /**
     * Whether float arrays are copied straight into and out of their memory here: the CPU backend on a little-endian
     * host (elsewhere ND4J's own calls are used).
     */
    static boolean direct() {
        return DIRECT && LITTLE_ENDIAN_HOST;
    }

    /** A new rows×columns 'c'-ordered float array holding {@code values} (row-major). */
    static INDArray matrix(float[] values, int rows, int columns) {
        checkLength(values.length, rows, columns);
        if (!DIRECT) {
            return Nd4j.create(values, new long[]{rows, columns}, 'c');
        }
        INDArray array = Nd4j.createUninitialized(DataType.FLOAT, new long[]{rows, columns}, 'c');
        new FloatPointer(array.data().pointer()).capacity(values.length).put(values, 0, values.length);
        return array;
    }

    /** A new rows×columns 'c'-ordered float array from little-endian float32 bytes at {@code offset}. */
    static INDArray matrix(byte[] bytes, int offset, int rows, int columns) {
        long n = (long) rows * columns;
        if (!direct()) {
            float[] values = new float[Math.toIntExact(n)];
            ByteBuffer.wrap(bytes, offset, Math.toIntExact(4 * n)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            return Nd4j.create(values, new long[]{rows, columns}, 'c');
        }
        INDArray array = Nd4j.createUninitialized(DataType.FLOAT, new long[]{rows, columns}, 'c');
        new BytePointer(array.data().pointer()).capacity(4 * n).put(bytes, offset, Math.toIntExact(4 * n));
        return array;
    }

    /**
     * A new rows×columns 'c'-ordered float array read from {@code in}: little-endian float32, row-major, exactly
     * 4·rows·columns bytes. On the CPU backend the bytes go straight into the array's memory (no heap buffer, one
     * copy from the page cache); {@code file} names the file when it ends early.
     */
    static INDArray read(ReadableByteChannel in, int rows, int columns, String file) throws IOException {
        return read(in, rows, columns, file, null);
    }

    /**
     * As {@link #read(ReadableByteChannel, int, int, String)}, into {@code into} when it can hold the matrix as it is
     * (a rows×columns 'c'-ordered float array that is not a view; CPU backend): then no array is created and
     * {@code into} is returned, its values overwritten.
     */
    static INDArray read(ReadableByteChannel in, int rows, int columns, String file, INDArray into) throws IOException {
        long n = (long) rows * columns;
        if (!direct()) {
            ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(4 * n));
            readFully(in, bytes, file);
            return matrix(bytes.array(), 0, rows, columns);
        }
        INDArray array = reusable(into, rows, columns) ? into
                : Nd4j.createUninitialized(DataType.FLOAT, new long[]{rows, columns}, 'c');
        if (n > 0) {
            readFully(in, new BytePointer(array.data().pointer()).capacity(4 * n).asByteBuffer(), file);
        }
        return array;
    }

    /** Whether {@code array} is a rows×columns 'c'-ordered float matrix of its own memory. */
    static boolean reusable(INDArray array, int rows, int columns) {
        return array != null && array.dataType() == DataType.FLOAT && array.rank() == 2 && array.rows() == rows
                && array.columns() == columns && array.ordering() == 'c' && !array.isView()
                && array.data().length() == (long) rows * columns;
    }

    /** Fills {@code into} from {@code in}; an end of the channel before that is an error naming {@code file}. */
    static void readFully(ReadableByteChannel in, ByteBuffer into, String file) throws IOException {
        while (into.hasRemaining()) {
            if (in.read(into) < 0) {
                throw new java.io.EOFException(file + ": ended " + into.remaining() + " bytes early while being read "
                        + "(truncated or overwritten)");
            }
        }
    }

    /** Writes {@code array}'s values, row-major, as little-endian float32 into {@code into} at its position. */
    static void put(INDArray array, ByteBuffer into) {
        INDArray c = RowMajor.of(array.dataType() == DataType.FLOAT ? array : array.castTo(DataType.FLOAT));
        int bytes = Math.toIntExact(4 * c.length());
        if (!direct() || !into.hasArray() || into.order() != ByteOrder.LITTLE_ENDIAN) {
            into.asFloatBuffer().put(c.data().asFloat());
            into.position(into.position() + bytes);
            return;
        }
        new BytePointer(c.data().pointer()).capacity(bytes).get(into.array(), into.arrayOffset() + into.position(), bytes);
        into.position(into.position() + bytes);
    }

    private static void checkLength(int length, int rows, int columns) {
        if ((long) rows * columns != length) {
            throw new IllegalArgumentException(length + " values for a " + rows + "x" + columns + " matrix");
        }
    }
}
