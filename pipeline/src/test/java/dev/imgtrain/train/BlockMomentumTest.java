package dev.imgtrain.train;

import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.config.NetworkSpec;
import dev.imgtrain.model.NetworkFactory;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockMomentumTest {
    private static MultiLayerNetwork network() {
        NetworkSpec spec = new ConfigLoader().withFlag("train.preset", "mnist-dense-32-16").load().model();
        return NetworkFactory.network(spec, 6, 3, 11);
    }

    /** Stands in for a round of dl4j-spark: the network ends holding an "average" some way from where it started. */
    private static float[] averageRound(MultiLayerNetwork net, Random r) {
        float[] p = net.params().toFloatVector();
        for (int i = 0; i < p.length; i++) {
            p[i] += (float) (r.nextGaussian() * 0.01);
        }
        net.params().assign(Nd4j.createFromArray(p).reshape(net.params().shape()));
        return p;
    }

    @Test
    void plainAveragingIsInactive() {
        assertFalse(new BlockMomentum(0, 1, true).active());
        assertTrue(new BlockMomentum(0.5, 1, true).active());
        assertTrue(new BlockMomentum(0, 2, false).active());
    }

    @Test
    void nesterovBlockMomentumFollowsTheUpdateRule() {
        MultiLayerNetwork net = network();
        Random r = new Random(1);
        double m = 0.5;
        double lr = 1.0;
        BlockMomentum bm = new BlockMomentum(m, lr, true);
        bm.start(net);
        int n = (int) net.numParams();
        double[] w = toDouble(net.params().toFloatVector());
        double[] s = w.clone();
        double[] d = new double[n];
        for (int round = 0; round < 4; round++) {
            float[] avg = averageRound(net, r);
            bm.afterRound(net);
            for (int i = 0; i < n; i++) {
                d[i] = m * d[i] + lr * (avg[i] - s[i]);
                w[i] += d[i];
                s[i] = w[i] + m * d[i];
            }
            float[] got = net.params().toFloatVector();
            for (int i = 0; i < n; i++) {
                assertEquals(s[i], got[i], 1e-5 * (1 + Math.abs(s[i])), "round " + round + " parameter " + i);
            }
        }
        // After the first round the network moved further than the average: 1 + m times the change.
        assertTrue(Math.abs(net.params().getDouble(0) - w[0]) > 0, "the look-ahead differs from the model");
    }

    @Test
    void classicBlockMomentumStartsTheNextRoundFromTheModel() {
        MultiLayerNetwork net = network();
        Random r = new Random(2);
        BlockMomentum bm = new BlockMomentum(0.5, 1, false);
        bm.start(net);
        float[] start = net.params().toFloatVector();
        float[] avg = averageRound(net, r);
        bm.afterRound(net);
        // First round: D = G, W = S + G = the average.
        assertArrayEquals(avg, net.params().toFloatVector(), 1e-6f);
        float[] avg2 = averageRound(net, r);
        bm.afterRound(net);
        float[] got = net.params().toFloatVector();
        for (int i = 0; i < got.length; i++) {
            float expected = avg[i] + 0.5f * (avg[i] - start[i]) + (avg2[i] - avg[i]);
            assertEquals(expected, got[i], 1e-6f, "parameter " + i);
        }
    }

    @Test
    void aRestoredStateContinuesAsTheUninterruptedRun() {
        MultiLayerNetwork a = network();
        BlockMomentum first = new BlockMomentum(0.5, 1, true);
        first.start(a);
        Random r = new Random(3);
        averageRound(a, r);
        first.afterRound(a);
        byte[] saved = first.state();
        MultiLayerNetwork b = a.clone();

        BlockMomentum resumed = new BlockMomentum(0.5, 1, true);
        resumed.restore(saved, b.numParams(), "epoch-1.block-momentum.bin");
        resumed.start(b);
        Random ra = new Random(4);
        Random rb = new Random(4);
        for (int round = 0; round < 3; round++) {
            averageRound(a, ra);
            first.afterRound(a);
            averageRound(b, rb);
            resumed.afterRound(b);
        }
        assertArrayEquals(a.params().toFloatVector(), b.params().toFloatVector());
    }

    @Test
    void aStateOfAnotherNetworkIsRefusedNamingTheFile() {
        MultiLayerNetwork net = network();
        BlockMomentum bm = new BlockMomentum(0.5, 1, true);
        bm.start(net);
        byte[] saved = bm.state();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new BlockMomentum(0.5, 1, true).restore(saved, net.numParams() + 1, "x/epoch-3.block-momentum.bin"));
        assertTrue(e.getMessage().startsWith("x/epoch-3.block-momentum.bin: holds " + net.numParams() + " values"), e.getMessage());
        IllegalStateException junk = assertThrows(IllegalStateException.class,
                () -> new BlockMomentum(0.5, 1, true).restore(new byte[]{1, 2, 3}, 10, "y.bin"));
        assertEquals("y.bin: not a block momentum state file", junk.getMessage());
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
