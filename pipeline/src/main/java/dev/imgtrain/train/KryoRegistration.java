package dev.imgtrain.train;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.apache.spark.serializer.KryoRegistrator;
import org.nd4j.kryo.Nd4jRegistrator;

/**
 * Kryo for imgtrain's Spark jobs ({@code spark.kryo.registrator=dev.imgtrain.train.KryoRegistration}): ND4J's own
 * registrator (which dl4j-spark's jar carries; the nd4j-kryo artifact at M2 is empty) (INDArrays as raw buffers, the bulk of what parameter averaging moves: parameters, updater state and
 * mini-batches) plus Java serialization for the few imgtrain records that cross a task boundary, because Kryo 4's
 * field serializer cannot build Java records.
 */
public final class KryoRegistration implements KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        new Nd4jRegistrator().registerClasses(kryo);
        JavaSerializer java = new JavaSerializer();
        for (String record : new String[]{"dev.imgtrain.evaluate.DistributedEvaluator$Partial",
                "dev.imgtrain.ingest.IngestJob$TaskResult", "dev.imgtrain.datasets.DatasetManifest$SourceFile",
                "dev.imgtrain.datasets.DecodeTask"}) {
            try {
                kryo.register(Class.forName(record, false, KryoRegistration.class.getClassLoader()), java);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("KryoRegistration: " + record + " is not on the classpath", e);
            }
        }
    }
}
