package dev.imgtrain.train;

import dev.imgtrain.model.RowMajor;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.kryo.Nd4jSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Kryo serializer for ND4J arrays: float32 and float64 arrays as their shape and their values in one bulk copy each
 * way; any other data type (and empty arrays) through ND4J's own {@link Nd4jSerializer}. ND4J's serializer writes and
 * reads value by value through a Data{Output,Input}Stream; in parameter averaging every round moves each worker's
 * parameters and updater state (3.2 MB per worker for mnist-dense-512) and a broadcast of the same, and a profile of
 * training showed Spark's result threads spending their time in {@code DataInputStream.readFloat}. On the CPU backend
 * float values go between the array's own memory and Kryo's buffer 64 KiB at a time ({@link FloatArrays#direct}):
 * no float[] or byte[] copy of the whole array per array and round (about 33 MB of short-lived heap a round for two
 * workers of mnist-dense-512, which the collector then had to clear while the workers trained).
 * The array read back is always a fresh 'c'-ordered array (views and 'f' order are written as their values).
 */
final class BulkArraySerializer extends Serializer<INDArray> {
    private static final byte ND4J = 0;
    private static final byte FLOAT = 1;
    private static final byte DOUBLE = 2;

    /** The copy buffer of the CPU backend's float path, one per thread (Spark serialises in several). */
    private static final ThreadLocal<byte[]> CHUNK = ThreadLocal.withInitial(() -> new byte[1 << 16]);

    private final Nd4jSerializer nd4j = new Nd4jSerializer();

    @Override
    public void write(Kryo kryo, Output output, INDArray array) {
        DataType type = array.dataType();
        if ((type != DataType.FLOAT && type != DataType.DOUBLE) || array.isEmpty()) {
            output.writeByte(ND4J);
            nd4j.write(kryo, output, array);
            return;
        }
        output.writeByte(type == DataType.FLOAT ? FLOAT : DOUBLE);
        long[] shape = array.shape();
        output.writeVarInt(shape.length, true);
        for (long dim : shape) {
            output.writeVarLong(dim, true);
        }
        INDArray c = RowMajor.of(array);
        if (type == DataType.FLOAT && FloatArrays.direct()) {
            // Straight from the array's memory into Kryo's buffer, a chunk at a time: no copy of the whole on the heap.
            long length = 4 * c.length();
            output.writeVarInt(Math.toIntExact(length), true);
            BytePointer from = new BytePointer(c.data().pointer()).capacity(length);
            byte[] chunk = CHUNK.get();
            for (long done = 0; done < length; done += chunk.length) {
                int n = (int) Math.min(chunk.length, length - done);
                from.position(done).get(chunk, 0, n);
                output.writeBytes(chunk, 0, n);
            }
            return;
        }
        ByteBuffer bytes;
        if (type == DataType.FLOAT) {
            float[] values = c.data().asFloat();
            bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(values);
        } else {
            double[] values = c.data().asDouble();
            bytes = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asDoubleBuffer().put(values);
        }
        output.writeVarInt(bytes.capacity(), true);
        output.writeBytes(bytes.array());
    }

    @Override
    public INDArray read(Kryo kryo, Input input, Class<INDArray> type) {
        byte kind = input.readByte();
        if (kind == ND4J) {
            return nd4j.read(kryo, input, type);
        }
        long[] shape = new long[input.readVarInt(true)];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = input.readVarLong(true);
        }
        int length = input.readVarInt(true);
        if (kind == FLOAT && FloatArrays.direct() && shape.length > 0) {
            // Kryo's buffer straight into the new array's memory, a chunk at a time.
            INDArray array = Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
            if (4 * array.length() != length) {
                throw new com.esotericsoftware.kryo.KryoException("float array of shape "
                        + java.util.Arrays.toString(shape) + " with " + length + " bytes of values");
            }
            BytePointer to = new BytePointer(array.data().pointer()).capacity(length);
            byte[] chunk = CHUNK.get();
            for (int done = 0; done < length; done += chunk.length) {
                int n = Math.min(chunk.length, length - done);
                input.readBytes(chunk, 0, n);
                to.position(done).put(chunk, 0, n);
            }
            return array;
        }
        ByteBuffer bytes = ByteBuffer.wrap(input.readBytes(length)).order(ByteOrder.LITTLE_ENDIAN);
        if (kind == FLOAT) {
            float[] values = new float[bytes.capacity() / 4];
            bytes.asFloatBuffer().get(values);
            return shape.length == 0 ? Nd4j.scalar(values[0]) : Nd4j.create(values, shape, 'c');
        }
        double[] values = new double[bytes.capacity() / 8];
        bytes.asDoubleBuffer().get(values);
        return shape.length == 0 ? Nd4j.scalar(values[0]) : Nd4j.create(values, shape, 'c');
    }
}
