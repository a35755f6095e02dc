package dev.imgtrain.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaRDDLike;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * DL4J's {@link ParameterAveragingTrainingMaster}, unchanged but for two things. When imgtrain already knows how many
 * paths an RDD holds (it built the list: one averaging round, see {@code TrainJob.rounds}), DL4J does not run a Spark
 * job to count them: {@code fitPaths} counts its paths before every call, and imgtrain makes one call per averaging
 * round, so that was one extra Spark job per round. And with {@code fused}, its workers are
 * {@link FusedTrainingWorker}s (the fused training step, {@code model.layer-implementation = fused}). Averaging,
 * broadcasting and the rest of the workers are DL4J's own.
 */
public class RoundTrainingMaster extends ParameterAveragingTrainingMaster {
    private final Map<Integer, Long> knownCounts = new ConcurrentHashMap<>();
    private final boolean fused;

    public RoundTrainingMaster(ParameterAveragingTrainingMaster.Builder builder, boolean fused) {
        super(builder);
        this.fused = fused;
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

    /** DL4J's worker for a round (the network broadcast with its updater state), or the fused one. */
    @Override
    public ParameterAveragingTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
        if (!fused) {
            return super.getWorkerInstance(network);
        }
        NetBroadcastTuple tuple = new NetBroadcastTuple(network.getNetwork().getLayerWiseConfigurations(),
                network.getNetwork().params(), network.getNetwork().getUpdater().getStateViewArray());
        if (collectTrainingStats) {
            stats.logBroadcastStart();
        }
        Broadcast<NetBroadcastTuple> broadcast = network.getSparkContext().broadcast(tuple);
        if (collectTrainingStats) {
            stats.logBroadcastEnd();
        }
        WorkerConfiguration configuration = new WorkerConfiguration(false, rddDataSetNumExamples, batchSizePerWorker,
                averagingFrequency, prefetchNumBatches, collectTrainingStats);
        return new FusedTrainingWorker(broadcast, saveUpdater, configuration, trainingHookList, listeners,
                getRouterProvider());
    }
}
