package dev.imgtrain.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaRDDLike;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * DL4J's {@link ParameterAveragingTrainingMaster}, unchanged but for one thing: when imgtrain already knows how many
 * paths an RDD holds (it built the list: one averaging round, see {@code TrainJob.rounds}), DL4J does not run a Spark
 * job to count them. {@code fitPaths} counts its paths before every call, and imgtrain makes one call per averaging
 * round, so that was one extra Spark job per round. Averaging, broadcasting and the workers are DL4J's own.
 */
public class RoundTrainingMaster extends ParameterAveragingTrainingMaster {
    private final Map<Integer, Long> knownCounts = new ConcurrentHashMap<>();

    public RoundTrainingMaster(ParameterAveragingTrainingMaster.Builder builder) {
        super(builder);
    }

    /** Records that {@code paths} holds {@code count} paths; the next {@code fitPaths} over it uses that count. */
    public JavaRDD<String> withKnownCount(JavaRDD<String> paths, long count) {
        knownCounts.put(paths.id(), count);
        return paths;
    }

    @Override
    protected <T, R extends JavaRDDLike<T, R>> long getTotalDataSetObjectCount(JavaRDDLike<T, R> data) {
        Long known = knownCounts.remove(data.id());
        return known != null ? known : super.getTotalDataSetObjectCount(data);
    }
}
