package dev.imgtrain.train;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keras' EarlyStopping and ReduceLROnPlateau rules, epoch by epoch, and their replay on resume. */
class CallbacksTest {
    private static final Callbacks.ReduceLrOnPlateau NO_PLATEAU =
            new Callbacks.ReduceLrOnPlateau(false, "val_loss", 0.1, 10, 1e-4, 0, 0);
    private static final Callbacks.EarlyStopping NO_EARLY = new Callbacks.EarlyStopping(false, "val_loss", 3, 0, false);

    private static EpochMetrics epoch(int epoch, double valLoss, double valAccuracy) {
        return new EpochMetrics(epoch, 0.1, 0.9, 100, valLoss, valAccuracy, 1, 100, null, null, null);
    }

    private static final Callbacks.LrDecay OFF = Callbacks.LrDecay.OFF;

    /** Feeds val_loss values (val_accuracy = 1 - loss) and returns the epoch at which it stopped (0: it did not). */
    private static int stopsAt(Callbacks c, double... valLoss) {
        for (int i = 0; i < valLoss.length; i++) {
            Callbacks.Decision d = c.afterEpoch(epoch(i + 1, valLoss[i], 1 - valLoss[i]));
            if (d.stop() != null) {
                return i + 1;
            }
        }
        return 0;
    }

    @Test
    void earlyStoppingCountsEpochsWithoutImprovementAndNamesTheBestEpoch() {
        Callbacks c = new Callbacks(new Callbacks.EarlyStopping(true, "val_loss", 2, 0, true), NO_PLATEAU, OFF, 0.001);
        assertEquals(0, stopsAt(c, 0.5, 0.4, 0.41), "one epoch without improvement: patience 2 goes on");
        Callbacks.Decision d = c.afterEpoch(epoch(4, 0.42, 0.58));
        assertEquals("early stopping: val_loss did not improve by more than 0 for 2 epochs (best 0.4000 at epoch 2)", d.stop());
        assertEquals(2, c.bestEpoch());
        assertTrue(c.restoreBestWeights());
        // An improvement resets the count.
        assertEquals(0, stopsAt(new Callbacks(new Callbacks.EarlyStopping(true, "val_loss", 2, 0, false), NO_PLATEAU, OFF, 1),
                0.5, 0.6, 0.4, 0.5, 0.3));
    }

    @Test
    void minDeltaPatienceZeroAndTheFirstEpoch() {
        // Improvements on the best (0.5) of up to 0.003 are not more than min-delta 0.01: the 3rd epoch without one
        // stops (patience 3).
        assertEquals(4, stopsAt(new Callbacks(new Callbacks.EarlyStopping(true, "val_loss", 3, 0.01, false), NO_PLATEAU, OFF, 1),
                0.5, 0.499, 0.498, 0.497, 0.2));
        // Patience 0 stops at the first epoch without improvement, but never after the first epoch (as Keras).
        assertEquals(3, stopsAt(new Callbacks(new Callbacks.EarlyStopping(true, "val_loss", 0, 0, false), NO_PLATEAU, OFF, 1),
                0.5, 0.4, 0.45));
        assertEquals(0, stopsAt(new Callbacks(new Callbacks.EarlyStopping(true, "val_loss", 0, 0, false), NO_PLATEAU, OFF, 1),
                Double.NaN));
    }

    @Test
    void valAccuracyIsMaximised() {
        Callbacks c = new Callbacks(new Callbacks.EarlyStopping(true, "val_accuracy", 1, 0, false), NO_PLATEAU, OFF, 1);
        // val_accuracy = 1 - val_loss: 0.9, 0.95, 0.94 -> the third epoch is worse, stop (patience 1).
        assertEquals(3, stopsAt(c, 0.1, 0.05, 0.06));
        assertEquals(2, c.bestEpoch());
        // Disabled: it never stops, but still knows the best epoch (train.keep-checkpoints = best uses it).
        Callbacks off = new Callbacks(NO_EARLY, NO_PLATEAU, OFF, 1);
        assertEquals(0, stopsAt(off, 0.5, 0.4, 0.6, 0.7, 0.8, 0.9));
        assertEquals(2, off.bestEpoch());
    }

    @Test
    void reduceLrOnPlateauMultipliesAfterPatienceWaitsCooldownAndStopsAtMinLr() {
        Callbacks c = new Callbacks(NO_EARLY, new Callbacks.ReduceLrOnPlateau(true, "val_loss", 0.5, 2, 1e-4, 1, 0.0003),
                OFF, 0.002);
        List<Double> lrs = new ArrayList<>();
        List<String> changes = new ArrayList<>();
        double[] losses = {0.5, 0.4, 0.45, 0.46, 0.47, 0.48, 0.49, 0.5, 0.51, 0.52, 0.53};
        for (int i = 0; i < losses.length; i++) {
            Callbacks.Decision d = c.afterEpoch(epoch(i + 1, losses[i], 0.9));
            lrs.add(d.nextLr());
            changes.add(d.lrChange());
        }
        // Epochs 3 and 4 without improvement -> halved after epoch 4; epoch 5 is the cooldown; 6 and 7 -> halved; ...
        assertEquals(List.of(0.002, 0.002, 0.002, 0.001, 0.001, 0.001, 0.0005, 0.0005, 0.0005, 0.0003, 0.0003), lrs);
        assertEquals("reduce-lr-on-plateau: val_loss did not improve by more than 0.0001 for 2 epochs; learning rate "
                + "0.002 -> 0.001", changes.get(3));
        assertNull(changes.get(4));
        assertNull(changes.get(10), "at min-lr it changes no more");
        assertEquals(0.0003, c.learningRate());
    }

    @Test
    void aReplayOfTheMetricsGivesTheStateTheUninterruptedRunHad() {
        Callbacks.EarlyStopping early = new Callbacks.EarlyStopping(true, "val_loss", 3, 0, true);
        Callbacks.ReduceLrOnPlateau plateau = new Callbacks.ReduceLrOnPlateau(true, "val_loss", 0.1, 1, 0, 0, 0);
        double[] losses = {0.5, 0.4, 0.42, 0.39, 0.41, 0.43, 0.44};
        Callbacks.LrDecay decay = new Callbacks.LrDecay(true, 0.5, 2, 3, 0);
        Callbacks whole = new Callbacks(early, plateau, decay, 0.01);
        List<EpochMetrics> seen = new ArrayList<>();
        List<Callbacks.Decision> decisions = new ArrayList<>();
        for (int i = 0; i < losses.length; i++) {
            EpochMetrics m = new EpochMetrics(i + 1, 0.1, 0.9, 100, losses[i], 0.9, 1, 100, whole.learningRate(), null, null);
            seen.add(m);
            decisions.add(whole.afterEpoch(m));
        }
        for (int k = 1; k < losses.length; k++) {
            Callbacks.Replayed replayed = Callbacks.replay(early, plateau, decay, 0.01, seen.subList(0, k));
            assertEquals(decisions.get(k - 1), replayed.last(), "after epoch " + k);
            Callbacks resumed = replayed.callbacks();
            for (int i = k; i < losses.length; i++) {
                assertEquals(decisions.get(i), resumed.afterEpoch(seen.get(i)), "epoch " + (i + 1) + " resumed after " + k);
            }
            assertEquals(whole.bestEpoch(), resumed.bestEpoch());
        }
        assertEquals(7, seen.size());
        assertTrue(decisions.get(6).stop().startsWith("early stopping: val_loss did not improve by more than 0 for 3 epochs "
                + "(best 0.3900 at epoch 4)"), decisions.get(6).stop());
    }

    @Test
    void lrDecayStepsAfterItsFirstEpochEveryNEpochsDownToMinLr() {
        Callbacks c = new Callbacks(NO_EARLY, NO_PLATEAU, new Callbacks.LrDecay(true, 0.5, 2, 3, 0.0002), 0.002);
        List<Double> lrs = new ArrayList<>();
        for (int e = 1; e <= 10; e++) {
            lrs.add(c.afterEpoch(epoch(e, 0.5, 0.5)).nextLr());
        }
        // After epochs 3, 5 and 7 it halves; after 9 it would be 0.000125, below min-lr: 0.0002; then no change.
        assertEquals(List.of(0.002, 0.002, 0.001, 0.001, 0.0005, 0.0005, 0.00025, 0.00025, 0.0002, 0.0002), lrs);
        Callbacks one = new Callbacks(NO_EARLY, NO_PLATEAU, new Callbacks.LrDecay(true, 0.7, 1, 1, 0), 0.001);
        assertEquals("lr-decay: after epoch 1; learning rate 0.001 -> 0.0007", one.afterEpoch(epoch(1, 0.5, 0.5)).lrChange());
        assertTrue(one.active(), "the epochs' lr is recorded when only the schedule is on");
        assertEquals(0.00049, one.afterEpoch(epoch(2, 0.5, 0.5)).nextLr(), 1e-12);
    }
}
