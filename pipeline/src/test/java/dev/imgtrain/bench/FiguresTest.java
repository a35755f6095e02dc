package dev.imgtrain.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FiguresTest {
    @Test
    void mediansAndRatiosOfMedians() {
        Figures f = new Figures();
        for (double x : new double[]{3, 1, 2}) {
            f.add("a_seconds", x);
        }
        f.add("b_seconds", 4);
        f.add("b_seconds", 8);
        assertEquals(2.0, f.median("a_seconds"));
        assertEquals(6.0, f.median("b_seconds"), "an even count: the mean of the middle two");
        assertEquals(2.0 / 6.0, f.ratio("a_seconds", "b_seconds"), 1e-12);
        assertNull(f.ratio("a_seconds", "missing"), "not measured: no ratio");
        assertTrue(Double.isNaN(f.median("missing")));
        f.add("never_reached", Double.NaN);
        assertNull(f.ratio("a_seconds", "never_reached"), "a run that never reached the target: no ratio");
        assertEquals(List.of("a_seconds", "b_seconds", "never_reached"), List.copyOf(f.medians().keySet()),
                "in the order measured");
    }

    @Test
    void theFasterPyTorchSplitIsTheOneCompared() {
        List<PyTorchPeer.Split> splits = List.of(new PyTorchPeer.Split(1, 2), new PyTorchPeer.Split(2, 1));
        Figures f = new Figures();
        assertNull(BenchReport.bestSplit(f, splits, "pytorch_"), "the peer did not run");
        f.add("pytorch_" + splits.get(0).label() + "_epoch_seconds", 3.0);
        f.add("pytorch_" + splits.get(1).label() + "_epoch_seconds", 2.5);
        f.add("cifar_pytorch_" + splits.get(0).label() + "_epoch_seconds", 1.0);
        f.add("cifar_pytorch_" + splits.get(1).label() + "_epoch_seconds", 1.5);
        assertEquals(splits.get(1).label(), BenchReport.bestSplit(f, splits, "pytorch_"));
        assertEquals(splits.get(0).label(), BenchReport.bestSplit(f, splits, "cifar_pytorch_"));
    }
}
