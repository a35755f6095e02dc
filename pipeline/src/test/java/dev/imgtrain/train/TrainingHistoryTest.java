package dev.imgtrain.train;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingHistoryTest {
    @Test
    void batchLossesAreFixedPointToTwoToTheMinus24AndNonFiniteOnesAreFlagged() {
        assertEquals(0, TrainingHistory.fixedPoint(0));
        assertEquals(1L << 24, TrainingHistory.fixedPoint(1.0));
        assertEquals(Math.round(147.3 * (1 << 24)), TrainingHistory.fixedPoint(147.3));
        assertEquals(TrainingHistory.NOT_FINITE, TrainingHistory.fixedPoint(Double.NaN));
        assertEquals(TrainingHistory.NOT_FINITE, TrainingHistory.fixedPoint(Double.POSITIVE_INFINITY));
        assertEquals(TrainingHistory.NOT_FINITE, TrainingHistory.fixedPoint(2e9), "beyond the limit: no overflow");
    }

    @Test
    void theSumDoesNotDependOnTheOrderTasksFinishIn() {
        Random r = new Random(5);
        List<Double> losses = new ArrayList<>();
        for (int i = 0; i < 938; i++) {
            losses.add(64 * (0.05 + 2 * r.nextDouble()));
        }
        long fixed = 0;
        double plain = 0;
        for (double l : losses) {
            fixed += TrainingHistory.fixedPoint(l);
            plain += l;
        }
        boolean doublesDiffered = false;
        for (int shuffle = 0; shuffle < 20; shuffle++) {
            Collections.shuffle(losses, r);
            long f = 0;
            double d = 0;
            for (double l : losses) {
                f += TrainingHistory.fixedPoint(l);
                d += l;
            }
            assertEquals(fixed, f);
            doublesDiffered |= d != plain;
        }
        assertTrue(doublesDiffered, "double sums of the same numbers in another order differ in their last bits");
        assertEquals(plain, fixed / TrainingHistory.LOSS_SCALE, 1e-6 * plain);
    }
}
