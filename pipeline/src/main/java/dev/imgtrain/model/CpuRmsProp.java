package dev.imgtrain.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.RmsPropUpdater;
import org.nd4j.linalg.learning.config.RmsProp;

import java.nio.FloatBuffer;

/**
 * DL4J's {@link RmsProp} with its per-iteration update done by a Java loop on CPU float arrays
 * ({@code model.updater.implementation = java}, the default). Same hyperparameters, same state (one array, the
 * running mean of squared gradients) and the same float arithmetic as ND4J's {@code rms_prop_updater} op:
 * {@code s = decay·s + (1 − decay)·g²; g = lr·g / (√s + ε)}.
 * <p>
 * Why: ND4J 1.0.0-M2's op runs that loop as scalar code on one thread, 1.37 ms for the 407,050 parameters of
 * mnist-dense-512 on this machine's cores, against 2.8 ms for the whole forward and backward pass of a 64-example
 * batch; the JIT-vectorised loop here (two bulk copies each way included) takes 0.20 ms. Anything else (another data type, a
 * non-contiguous view, a GPU backend) goes to ND4J's op.
 * <p>
 * Saved models name DL4J's own {@link RmsProp} ({@link NetworkFactory#portable}), so a model.zip loads in any DL4J 1.0.0-M2 without
 * imgtrain's classes; the network's configuration JSON (Spark broadcasts, checkpoints) names this class.
 */
public class CpuRmsProp extends RmsProp {
    /** True when ND4J runs on the CPU backend, whose arrays live in host memory this loop can read. */
    private static final boolean HOST_MEMORY = Nd4j.getBackend().getClass().getName().contains(".cpu.");

    public CpuRmsProp() {
        super();
    }

    public CpuRmsProp(double learningRate, double rmsDecay, double epsilon) {
        super(learningRate, rmsDecay, epsilon);
    }

    /**
     * The running mean below which RMSProp's state is set to 0: {@code (ulp(ε) / 4)²}, 3.2e-30 for ε = 1e-7. Each step
     * subtracts it and clamps at 0 ({@code s = max(decay·s + (1 − decay)·g² − floor, 0)}), which changes √s by at most
     * √floor / 2 = ulp(ε) / 8: {@code √s + ε} rounds to the same float as without it, or one ulp of ε off where the
     * sum lies near a rounding boundary (then the update is one or two ulps off): rounding, as between ND4J's op and
     * this loop anyway (CpuRmsPropTest).
     * <p>
     * Why: a parameter whose gradient is 0 for good (a pixel that is 0 in every image, a dead ReLU unit's weights) has
     * its state multiplied by the decay every step, and it sinks into float's subnormal range (below 1.2e-38), where
     * x·0.9 rounds back to x for the smallest values: it stays there for the rest of training. Intel CPUs take a
     * microcode assist for every vector operation on a subnormal (a 10× slower multiply on the Xeon of 2026-12-05);
     * after two MNIST epochs 58,251 of mnist-dense-512's 407,050 state values were subnormal, and a worker's step grew
     * from 2.4 to 3.8 ms over four epochs. ε ≤ 0 gives a floor of 0 (no flushing).
     */
    static float stateFloor(float epsilon) {
        float quarterUlp = Math.ulp(epsilon) / 4;
        return epsilon > 0 ? quarterUlp * quarterUlp : 0f;
    }

    /**
     * RMSProp's new running mean of squared gradients, {@code max(decay·s + keep·g² − floor, 0)} with
     * {@code keep = 1 − decay} and {@code floor = stateFloor(ε)}: the one formula of this loop and of the fused step's
     * (small enough for the JIT to inline into both vectorised loops).
     */
    static float meanSquare(float s, float g, float decay, float keep, float floor) {
        return Math.max(s * decay + g * g * keep - floor, 0f);
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater updater = new Updater(this);
        updater.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
        return updater;
    }

    @Override
    public CpuRmsProp clone() {
        CpuRmsProp copy = new CpuRmsProp(getLearningRate(), getRmsDecay(), getEpsilon());
        copy.setLearningRateSchedule(getLearningRateSchedule() == null ? null : getLearningRateSchedule().clone());
        return copy;
    }

    /** DL4J's own RmsProp with the same hyperparameters (and schedule). */
    public RmsProp toDl4j() {
        RmsProp plain = new RmsProp(getLearningRate(), getRmsDecay(), getEpsilon());
        plain.setLearningRateSchedule(getLearningRateSchedule() == null ? null : getLearningRateSchedule().clone());
        return plain;
    }


    /** The updater: ND4J's {@link RmsPropUpdater} (state handling and all) with the loop in Java where it can be. */
    static final class Updater extends RmsPropUpdater {
        /** Updates done by the Java loop in this JVM (the rest went to ND4J's op): for tests. */
        static final java.util.concurrent.atomic.LongAdder LOOP_STEPS = new java.util.concurrent.atomic.LongAdder();
        private float[] gradient = new float[0];
        private float[] state = new float[0];

        Updater(RmsProp config) {
            super(config);
        }

        @Override
        public void applyUpdater(INDArray g, int iteration, int epoch) {
            INDArray s = getLastGradient();
            FloatBuffer gb = HOST_MEMORY && s != null && g.length() == s.length() ? hostFloats(g) : null;
            FloatBuffer sb = gb == null ? null : hostFloats(s);
            if (sb == null) {
                super.applyUpdater(g, iteration, epoch);
                return;
            }
            int n = (int) g.length();
            if (gradient.length != n) {
                gradient = new float[n];
                state = new float[n];
            }
            int go = (int) g.offset();
            int so = (int) s.offset();
            gb.get(go, gradient, 0, n);
            sb.get(so, state, 0, n);
            step(gradient, state, n, (float) getConfig().getLearningRate(iteration, epoch),
                    (float) getConfig().getRmsDecay(), (float) getConfig().getEpsilon());
            gb.put(go, gradient, 0, n);
            sb.put(so, state, 0, n);
            LOOP_STEPS.increment();
        }

        /**
         * The array's whole underlying buffer (a view starts at its {@code offset()} in it), or null when the array is
         * not contiguous float32 that fits.
         */
        private static FloatBuffer hostFloats(INDArray a) {
            if (a.dataType() != DataType.FLOAT || a.elementWiseStride() != 1 || a.length() > Integer.MAX_VALUE) {
                return null;
            }
            FloatBuffer buffer = a.data().asNioFloat();
            return a.offset() + a.length() <= buffer.capacity() ? buffer : null;
        }

        /** ND4J's rms_prop_updater arithmetic, in float, element by element (the state flushed as {@link #stateFloor} says). */
        static void step(float[] g, float[] s, int n, float lr, float decay, float epsilon) {
            float keep = 1 - decay;
            float floor = stateFloor(epsilon);
            for (int i = 0; i < n; i++) {
                float x = g[i];
                float mean = meanSquare(s[i], x, decay, keep, floor);
                s[i] = mean;
                g[i] = lr * x / ((float) Math.sqrt(mean) + epsilon);
            }
        }
    }
}
