package dev.imgtrain.model;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;

/**
 * A network shipped to executors for inference: its configuration JSON and a copy of its parameters as two Spark
 * broadcasts (each executor fetches them once), rebuilt in a task by {@link #network}. Driver: {@link #of}, then
 * {@link #destroy} when the job is done.
 */
public final class BroadcastNetwork implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Broadcast<String> conf;
    private final Broadcast<INDArray> params;

    private BroadcastNetwork(Broadcast<String> conf, Broadcast<INDArray> params) {
        this.conf = conf;
        this.params = params;
    }

    public static BroadcastNetwork of(JavaSparkContext jsc, MultiLayerNetwork network) {
        return new BroadcastNetwork(jsc.broadcast(network.getLayerWiseConfigurations().toJson()),
                jsc.broadcast(network.params().dup()));
    }

    /** A network with the broadcast configuration and parameters (executor side; one per task or partition). */
    public MultiLayerNetwork network() {
        MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(conf.value()));
        net.init(params.value(), true);
        return net;
    }

    public void destroy() {
        conf.destroy();
        params.destroy();
    }
}
