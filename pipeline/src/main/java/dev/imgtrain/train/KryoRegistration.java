package dev.imgtrain.train;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.apache.spark.serializer.KryoRegistrator;
import org.nd4j.kryo.Nd4jRegistrator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Kryo for imgtrain's Spark jobs ({@code spark.kryo.registrator=dev.imgtrain.train.KryoRegistration}): ND4J's own
 * registrator (which dl4j-spark's jar carries; the nd4j-kryo artifact at M2 is empty), with ND4J's array class then
 * given {@link BulkArraySerializer} (arrays are the bulk of what parameter averaging moves: parameters and updater
 * state, every round), plus Java serialization for the few imgtrain records that cross a task boundary, because Kryo 4's
 * field serializer cannot build Java records.
 */
public final class KryoRegistration implements KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        new Nd4jRegistrator().registerClasses(kryo);
        // ND4J's array class again, with a serializer that copies values in bulk (BulkArraySerializer).
        kryo.register(Nd4j.getBackend().getNDArrayClass(), new BulkArraySerializer());
        JavaSerializer java = new JavaSerializer();
        for (String record : new String[]{"dev.imgtrain.train.DistributedEvaluator$Partial",
                "dev.imgtrain.ingest.IngestJob$TaskResult", "dev.imgtrain.ingest.IngestJob$TaskOutput",
                "dev.imgtrain.datasets.DatasetManifest$SourceFile",
                "dev.imgtrain.datasets.DecodeTask", "dev.imgtrain.report.TestPredictions$Picked",
                "dev.imgtrain.predict.PredictInputs$Item", "dev.imgtrain.predict.PredictJob$BadImage"}) {
            try {
                kryo.register(Class.forName(record, false, KryoRegistration.class.getClassLoader()), java);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("KryoRegistration: " + record + " is not on the classpath", e);
            }
        }
    }
}
