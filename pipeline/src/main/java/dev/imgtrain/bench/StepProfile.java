package dev.imgtrain.bench;

import dev.imgtrain.config.NetworkSpec;
import dev.imgtrain.model.NetworkFactory;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasColMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;

/**
 * One worker's training step, as a Spark worker runs it (one thread for ND4J and BLAS), split into its matrix products
 * and the rest: the step of each layer implementation ({@code fused}, {@code gemm}, {@code dl4j}) timed over real
 * mini-batches, and the products alone (the BLAS calls a step needs, at its shapes, on the same thread) timed apart.
 */
public final class StepProfile {
    private StepProfile() {
    }

    /** Seconds per step of one layer implementation, and of the matrix products within it. */
    public record Step(String implementation, double stepSeconds, double productSeconds) {
        public double outsideProductsSeconds() {
            return stepSeconds - productSeconds;
        }
    }

    /**
     * Mean seconds per step of {@code implementation} on {@code batches} (after a warm-up pass over them), ND4J and
     * BLAS on one thread; {@code productSeconds} from {@link #productSeconds}.
     */
    public static Step measure(NetworkSpec spec, String implementation, int inputs, int classes, List<DataSet> batches,
                               int steps, double productSeconds) {
        return Benchmarks.withThreads(1, () -> {
            MultiLayerNetwork net = NetworkFactory.network(spec.withLayerImplementation(implementation), inputs, classes, 1);
            for (int i = 0; i < Math.min(steps, batches.size()); i++) {
                net.fit(batches.get(i % batches.size()));
            }
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                net.fit(batches.get(i % batches.size()));
            }
            return new Step(implementation, (System.nanoTime() - start) / 1e9 / steps, productSeconds);
        });
    }

    /**
     * Mean seconds of one step's matrix products on one thread, as the fused step calls them: per layer the forward
     * product in·W, the weight gradient aᵀ·δ and, for every layer but the first, the input gradient δ·Wᵀ ({@code reps}
     * steps after as many warm-up ones).
     */
    public static double productSeconds(NetworkSpec spec, int inputs, int classes, int batch, int reps) {
        List<int[]> layers = layers(spec, inputs, classes);
        List<FloatPointer[]> operands = new ArrayList<>();
        for (int[] l : layers) {
            // in (batch×nIn), W (nIn×nOut), z (batch×nOut), δ (batch×nOut), dW (nIn×nOut), δ_below (batch×nIn)
            operands.add(new FloatPointer[]{filled((long) batch * l[0]), filled((long) l[0] * l[1]),
                    filled((long) batch * l[1]), filled((long) batch * l[1]), filled((long) l[0] * l[1]),
                    filled((long) batch * l[0])});
        }
        return Benchmarks.withThreads(1, () -> {
            Runnable step = () -> {
                for (int i = 0; i < layers.size(); i++) {
                    int nIn = layers.get(i)[0];
                    int nOut = layers.get(i)[1];
                    FloatPointer[] o = operands.get(i);
                    openblas_nolapack.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, nOut, nIn, 1f,
                            o[0], nIn, o[1], nIn, 1f, o[2], nOut);
                    openblas_nolapack.cblas_sgemm(CblasColMajor, CblasNoTrans, CblasTrans, nIn, nOut, batch, 1f,
                            o[0], nIn, o[3], nOut, 0f, o[4], nIn);
                    if (i > 0) {
                        openblas_nolapack.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, nIn, nOut, 1f,
                                o[3], nOut, o[1], nIn, 0f, o[5], nIn);
                    }
                }
            };
            for (int r = 0; r < reps; r++) {
                step.run();
            }
            long start = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                step.run();
            }
            return (System.nanoTime() - start) / 1e9 / reps;
        });
    }

    private static List<int[]> layers(NetworkSpec spec, int inputs, int classes) {
        List<int[]> layers = new ArrayList<>();
        int in = inputs;
        for (NetworkSpec.Hidden h : spec.hidden()) {
            layers.add(new int[]{in, h.units()});
            in = h.units();
        }
        layers.add(new int[]{in, classes});
        return layers;
    }

    private static FloatPointer filled(long floats) {
        var buffer = ByteBuffer.allocateDirect(Math.toIntExact(floats * 4)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        java.util.Random random = new java.util.Random(floats);
        for (int i = 0; i < floats; i++) {
            buffer.put(i, random.nextFloat() - 0.5f);
        }
        return new Kept(buffer);
    }

    /** A pointer that keeps its direct buffer reachable. */
    private static final class Kept extends FloatPointer {
        private final java.nio.FloatBuffer buffer;

        Kept(java.nio.FloatBuffer buffer) {
            super(buffer);
            this.buffer = buffer;
        }
    }
}
