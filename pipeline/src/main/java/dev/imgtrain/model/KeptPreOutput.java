package dev.imgtrain.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The pre-activations of a training forward pass, kept for the backpropagation that follows it. DL4J's
 * {@code BaseLayer.backpropGradient} recomputes them (the activation function overwrites its input), which for a
 * dense layer repeats the forward product. Handed out once, and only for the same input array object, while the
 * workspace it lives in is still the one (same generation) it was made in.
 */
final class KeptPreOutput {
    /** Backpropagations that used kept pre-activations instead of recomputing them (all layers, all threads). */
    static final java.util.concurrent.atomic.LongAdder HITS = new java.util.concurrent.atomic.LongAdder();
    private INDArray input;
    private INDArray z;
    private long generation;

    void keep(INDArray forInput, INDArray preOutput) {
        input = forInput;
        z = preOutput;
        generation = preOutput.isAttached() ? preOutput.data().getParentWorkspace().getGenerationId() : -1;
    }

    INDArray take(INDArray forInput) {
        INDArray kept = z;
        boolean valid = kept != null && forInput == input && kept.isInScope() && !kept.wasClosed()
                && (!kept.isAttached() || kept.data().getParentWorkspace().getGenerationId() == generation);
        clear();
        if (valid) {
            HITS.increment();
        }
        return valid ? kept : null;
    }

    void clear() {
        input = null;
        z = null;
    }
}
