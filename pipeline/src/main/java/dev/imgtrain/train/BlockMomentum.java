package dev.imgtrain.train;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.FloatBuffer;

/**
 * Blockwise model-update filtering (BMUF; Chen and Huo, ICASSP 2016) on the driver, after each of dl4j-spark's
 * parameter averagings. A round starts every worker from the parameters {@code S}; dl4j-spark averages what they
 * reached into {@code A}. Plain averaging goes on from {@code A}. Block momentum treats {@code G = A - S} as one
 * step of an outer optimiser with momentum: {@code D = momentum * D + blockLearningRate * G},
 * {@code W = W + D}, and the next round starts from {@code W} (classic, the default) or from the look-ahead
 * {@code W + momentum * D} (Nesterov). Averaging W workers' local steps moves the model about as far as one worker's steps, a W-th
 * of sequential training over the same examples; a momentum of {@code 1 - 1/W} makes up for that (the paper's
 * choice). {@code momentum = 0} and {@code blockLearningRate = 1} is plain averaging, bit for bit.
 *
 * <p>Only the parameters are filtered: the updater state (RMSProp's mean squares) is dl4j-spark's average. The
 * network always holds the parameters the next round starts from, so checkpoints, evaluation and the committed
 * model are those; {@code D} is the only state, saved with each checkpoint ({@link #state()}) so that a resumed run
 * goes on as an uninterrupted one would ({@link #restore}).
 */
final class BlockMomentum {
    private static final int MAGIC = 0x424d5546; // "BMUF"
    private final double momentum;
    private final double blockLearningRate;
    private final boolean nesterov;
    /** Parameters the current round started from (S), and the block momentum (D); null until {@link #start}. */
    private float[] start;
    private float[] delta;
    /** Scratch for the averaged parameters, reused every round. */
    private float[] average;

    BlockMomentum(double momentum, double blockLearningRate, boolean nesterov) {
        this.momentum = momentum;
        this.blockLearningRate = blockLearningRate;
        this.nesterov = nesterov;
    }

    /** Whether this changes anything: false for plain averaging (momentum 0, block learning rate 1). */
    boolean active() {
        return momentum != 0 || blockLearningRate != 1;
    }

    /** Takes the network's parameters as the first round's start; the momentum is zero unless restored. */
    void start(MultiLayerNetwork network) {
        start = network.params().toFloatVector();
        if (delta == null || delta.length != start.length) {
            delta = new float[start.length];
        }
    }

    /**
     * After an averaging round: the network holds the average; it then holds where the next round starts. The
     * parameters are read and written in place through their float buffer (two bulk copies per round, no new arrays:
     * before, a 1.6 MB Java array and a 1.6 MB ND4J array per round for mnist-dense-512).
     */
    void afterRound(MultiLayerNetwork network) {
        INDArray params = network.params();
        if (params.length() != start.length) {
            throw new IllegalStateException("block momentum: " + params.length() + " parameters, " + start.length + " at start");
        }
        FloatBuffer window = floats(params);
        if (average == null || average.length != start.length) {
            average = new float[start.length];
        }
        if (window != null) {
            window.get(0, average);
        } else {
            System.arraycopy(params.toFloatVector(), 0, average, 0, average.length);
        }
        float m = (float) momentum;
        float lr = (float) blockLearningRate;
        for (int i = 0; i < average.length; i++) {
            // W = S - m*D for Nesterov (S = W + m*D), W = S for classic.
            float w = nesterov ? start[i] - m * delta[i] : start[i];
            float d = m * delta[i] + lr * (average[i] - start[i]);
            w += d;
            delta[i] = d;
            start[i] = nesterov ? w + m * d : w;
        }
        if (window != null) {
            window.put(0, start);
        } else {
            params.assign(Nd4j.createFromArray(start).reshape(params.shape()));
        }
    }

    /** The float buffer under a contiguous float32 vector, from its first element; null for any other array. */
    private static FloatBuffer floats(INDArray array) {
        if (array.dataType() != DataType.FLOAT || array.elementWiseStride() != 1 || !array.isVector()
                || array.offset() + array.length() > Integer.MAX_VALUE) {
            return null;
        }
        FloatBuffer whole = array.data().asNioFloat();
        return array.offset() + array.length() <= whole.capacity() ? whole.position((int) array.offset()).slice() : null;
    }

    /** {@code D}, as bytes (a checkpoint's sidecar file). */
    byte[] state() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(8 + 4 * delta.length);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(delta.length);
            for (float d : delta) {
                out.writeFloat(d);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    /** Sets {@code D} from {@link #state()}'s bytes; {@code what} names them in an error. */
    void restore(byte[] state, long parameters, String what) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
            if (state.length < 8 || in.readInt() != MAGIC) {
                throw new IllegalStateException(what + ": not a block momentum state file");
            }
            int n = in.readInt();
            if (n != parameters || state.length != 8 + 4L * n) {
                throw new IllegalStateException(what + ": holds " + n + " values in " + state.length
                        + " bytes, the network has " + parameters + " parameters");
            }
            delta = new float[n];
            for (int i = 0; i < n; i++) {
                delta[i] = in.readFloat();
            }
        } catch (IOException e) {
            throw new IllegalStateException(what + ": " + e.getMessage(), e);
        }
    }
}
