package dev.imgtrain.train;

import dev.imgtrain.model.FusedNetwork;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.core.storage.StatsStorageRouterProvider;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.api.WorkerConfiguration;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;

import java.util.Collection;

/**
 * DL4J's parameter-averaging worker, training a {@link FusedNetwork}: the network DL4J builds from the round's
 * broadcast (its own copy of the parameters and updater state) is handed over to a fused network on the same arrays.
 * Fitting, hooks, statistics and the result sent back for averaging are DL4J's.
 */
public class FusedTrainingWorker extends ParameterAveragingTrainingWorker {
    private static final long serialVersionUID = 1L;

    public FusedTrainingWorker(Broadcast<NetBroadcastTuple> broadcast, boolean saveUpdater,
                               WorkerConfiguration configuration, Collection<TrainingHook> trainingHooks,
                               Collection<TrainingListener> listeners, StatsStorageRouterProvider routerProvider) {
        super(broadcast, saveUpdater, configuration, trainingHooks, listeners, routerProvider);
    }

    @Override
    public MultiLayerNetwork getInitialModel() {
        return FusedNetwork.over(super.getInitialModel());
    }
}
