package dev.imgtrain.train;

import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingResult;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import scala.reflect.ClassTag$;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Through Spark's own KryoSerializer with imgtrain's registrator, as the training jobs use it. */
class BulkArraySerializerTest {
    private static final SerializerInstance KRYO = new KryoSerializer(new SparkConf()
            .set("spark.kryo.registrator", KryoRegistration.class.getName())).newInstance();

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(T value) {
        ByteBuffer bytes = KRYO.serialize(value, ClassTag$.MODULE$.apply(Object.class));
        return (T) KRYO.deserialize(bytes, ClassTag$.MODULE$.apply(Object.class));
    }

    private static void assertSameArray(INDArray expected, INDArray actual) {
        assertEquals(expected.dataType(), actual.dataType());
        assertArrayEquals(expected.shape(), actual.shape());
        assertEquals(expected, actual);
    }

    @Test
    void floatAndDoubleArraysOfEveryLayoutComeBackEqual() {
        Nd4j.getRandom().setSeed(3);
        INDArray matrix = Nd4j.rand(DataType.FLOAT, 5, 7);
        assertSameArray(matrix, roundTrip(matrix));
        INDArray doubles = Nd4j.rand(DataType.DOUBLE, 3, 4, 2);
        assertSameArray(doubles, roundTrip(doubles));
        INDArray view = matrix.get(NDArrayIndex.interval(1, 4), NDArrayIndex.interval(2, 6));
        assertSameArray(view, roundTrip(view));
        INDArray fOrder = matrix.dup('f');
        assertSameArray(fOrder, roundTrip(fOrder));
        INDArray row = Nd4j.rand(DataType.FLOAT, 1, 407_050);
        assertSameArray(row, roundTrip(row));
        // The CPU path copies 64 KiB at a time: exactly one chunk, and one value more.
        INDArray oneChunk = Nd4j.rand(DataType.FLOAT, 1, 16_384);
        assertSameArray(oneChunk, roundTrip(oneChunk));
        INDArray chunkAndOne = Nd4j.rand(DataType.FLOAT, 1, 16_385);
        assertSameArray(chunkAndOne, roundTrip(chunkAndOne));
        INDArray vector = Nd4j.rand(DataType.FLOAT, 11);
        assertSameArray(vector, roundTrip(vector));
        INDArray scalar = Nd4j.scalar(2.5f);
        assertSameArray(scalar, roundTrip(scalar));
    }

    @Test
    void otherTypesAndEmptyArraysGoThroughNd4jsOwnSerializer() {
        INDArray ints = Nd4j.createFromArray(new int[][]{{1, 2}, {3, 4}});
        assertSameArray(ints, roundTrip(ints));
        INDArray empty = Nd4j.create(DataType.FLOAT, 0);
        assertEquals(0, ((INDArray) roundTrip(empty)).length());
    }

    @Test
    void aParameterAveragingResultKeepsItsArrays() {
        INDArray params = Nd4j.rand(DataType.FLOAT, 1, 1000);
        INDArray updater = Nd4j.rand(DataType.FLOAT, 1, 1000);
        ParameterAveragingTrainingResult back = roundTrip(new ParameterAveragingTrainingResult(params, updater, 0.25, null, null, null));
        assertSameArray(params, back.getParameters());
        assertSameArray(updater, back.getUpdaterState());
        assertEquals(0.25, back.getScore());
    }

    @Test
    void aFloatArrayWhoseValuesDoNotMatchItsShapeIsRefused() {
        com.esotericsoftware.kryo.io.Output out = new com.esotericsoftware.kryo.io.Output(64);
        out.writeByte(1); // float
        out.writeVarInt(2, true);
        out.writeVarLong(2, true);
        out.writeVarLong(3, true);
        out.writeVarInt(20, true); // 5 values for a 2x3 array
        out.writeBytes(new byte[20]);
        com.esotericsoftware.kryo.KryoException e = org.junit.jupiter.api.Assertions.assertThrows(
                com.esotericsoftware.kryo.KryoException.class, () -> new BulkArraySerializer().read(
                        new com.esotericsoftware.kryo.Kryo(), new com.esotericsoftware.kryo.io.Input(out.toBytes()),
                        INDArray.class));
        assertEquals("float array of shape [2, 3] with 20 bytes of values", e.getMessage());
    }
}
