package dev.imgtrain.model;

import org.bytedeco.javacpp.FloatPointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The working memory of {@link FusedStep} for one network shape on one thread: each layer's activations and its
 * pre-activation gradient (δ), off the heap (BLAS reads and writes them), shared by the step's lanes; and per lane
 * ({@link Lane}) three small heap arrays the updater loops copy chunks of the parameter, gradient and state arrays into
 * (the JIT vectorises loops over heap arrays, not over direct buffers: 0.94 ms against 0.30 ms for RMSProp over
 * mnist-dense-512's 407,050 parameters, this machine) and a weight-gradient tile.
 *
 * <p>Allocated once per thread and network shape and kept for the thread's life: a Spark worker thread builds a new
 * network every averaging round (DL4J's parameter-averaging worker), and every one of them reuses these. Grown (never
 * shrunk) when a larger mini-batch arrives.
 */
final class FusedBuffers {
    /**
     * Floats in each updater chunk: 4 KiB a chunk, 12 KiB for the three (parameters, gradient, state), well inside
     * L1 (32-48 KiB) with room for what the loop streams past. At 4,096 floats (48 KiB for the three) a step of mnist-dense-512 at batch
     * 64 took 1.32-1.41 ms alone and 1.32-1.44 ms two threads side by side; at 1,024 1.20-1.27 and 1.22-1.30 ms (2,048:
     * 1.23-1.33; 512: as 1,024), Intel Xeon with 48 KiB L1d, 2026-12-05.
     */
    static final int CHUNK = 1024;
    /** Allocations of activation buffers in this JVM (all threads): for tests that check reuse. */
    static final LongAdder ALLOCATIONS = new LongAdder();
    private static final ThreadLocal<Map<String, FusedBuffers>> PER_THREAD = ThreadLocal.withInitial(HashMap::new);

    /** Output width of each layer. */
    private final int[] widths;
    /** Examples the buffers hold. */
    private int rows;
    /** {@code act[l]}: layer l's activations, rows × widths[l] row-major (the softmax probabilities for the last). */
    FloatBuffer[] act;
    /** {@code delta[l]}: ∂loss/∂z of layer l, rows × widths[l] row-major. */
    FloatBuffer[] delta;
    /** Pointers at the buffers above (a FloatPointer keeps no reference to its buffer: these fields do). */
    FloatPointer[] actPointer;
    FloatPointer[] deltaPointer;
    /** A row of ones, as long as the widest batch: the bias gradient is δᵀ·1 (one sgemv). */
    private FloatBuffer onesBuffer;
    FloatPointer ones;
    /** Each lane's own scratch (lane 0 is the calling thread's; see {@link FusedStep}): grown to the lanes a step uses. */
    private Lane[] lanes = new Lane[0];
    /** Pointers re-aimed at each mini-batch's features and labels (no allocation per step). */
    final FusedStep.Address features = new FusedStep.Address();
    final FusedStep.Address labels = new FusedStep.Address();

    /**
     * The scratch of one lane of a step: heap copies of a bias and the updater's chunks, a tile of a weight gradient
     * ({@link FusedStep#TILE_COLUMNS} columns, grown to the widest layer input seen) and pointers re-aimed into the
     * shared buffers and the parameters (no allocation per step).
     */
    static final class Lane {
        final float[] bias;
        final float[] chunkParams = new float[CHUNK];
        final float[] chunkGradient = new float[CHUNK];
        final float[] chunkState = new float[CHUNK];
        FloatBuffer tileBuffer;
        private FloatPointer tilePointer;
        final FusedStep.Address weights = new FusedStep.Address();
        final FusedStep.Address out = new FusedStep.Address();
        final FusedStep.Address delta = new FusedStep.Address();
        final FusedStep.Address below = new FusedStep.Address();
        final FusedStep.Address biasGradient = new FusedStep.Address();

        private Lane(int widest) {
            bias = new float[widest];
        }

        /** The weight-gradient tile, holding at least {@code floats}. */
        FloatPointer tile(long floats) {
            if (tileBuffer == null || tileBuffer.capacity() < floats) {
                tileBuffer = direct(floats);
                tilePointer = new FloatPointer(tileBuffer);
            }
            return tilePointer;
        }
    }

    private FusedBuffers(int[] widths) {
        this.widths = widths.clone();
    }

    /** This thread's buffers for layers of {@code widths}, holding at least {@code rows} examples and {@code lanes} lanes. */
    static FusedBuffers forThread(int[] widths, int rows, int lanes) {
        FusedBuffers b = PER_THREAD.get().computeIfAbsent(Arrays.toString(widths), k -> new FusedBuffers(widths));
        if (b.rows < rows) {
            b.grow(rows);
        }
        if (b.lanes.length < lanes) {
            Lane[] more = Arrays.copyOf(b.lanes, lanes);
            for (int i = b.lanes.length; i < lanes; i++) {
                more[i] = new Lane(Arrays.stream(widths).max().orElse(1));
            }
            b.lanes = more;
        }
        return b;
    }

    /** Lane {@code i}'s scratch. */
    Lane lane(int i) {
        return lanes[i];
    }

    private void grow(int newRows) {
        int layers = widths.length;
        act = new FloatBuffer[layers];
        delta = new FloatBuffer[layers];
        actPointer = new FloatPointer[layers];
        deltaPointer = new FloatPointer[layers];
        for (int l = 0; l < layers; l++) {
            act[l] = direct((long) newRows * widths[l]);
            delta[l] = direct((long) newRows * widths[l]);
            actPointer[l] = new FloatPointer(act[l]);
            deltaPointer[l] = new FloatPointer(delta[l]);
        }
        FloatBuffer one = direct(newRows);
        for (int i = 0; i < newRows; i++) {
            one.put(i, 1f);
        }
        onesBuffer = one;
        ones = new FloatPointer(one);
        rows = newRows;
        ALLOCATIONS.increment();
    }

    private static FloatBuffer direct(long floats) {
        if (floats > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("fused step: a buffer of " + floats + " floats is too large");
        }
        return ByteBuffer.allocateDirect((int) floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
