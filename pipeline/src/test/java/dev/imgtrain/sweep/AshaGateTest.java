package dev.imgtrain.sweep;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.train.EpochMetrics;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ASHA's spec and its decisions: rungs, the top ceil(n / eta) so far, and the same answers after a restart. */
class AshaGateTest {
    @TempDir
    java.nio.file.Path dir;

    private static EpochMetrics epoch(int epoch, double valAccuracy) {
        return new EpochMetrics(epoch, 0.1, 0.9, 100, 1 - valAccuracy, valAccuracy, 1, 100, 0.001, null, null);
    }

    @Test
    void theSpecGivesRungsAndRefusesWhatCannotWork() {
        SweepSpec spec = SweepSpec.parse("""
                sweep {
                  id = a
                  asha {
                    min-epochs = 1, max-epochs = 9, reduction-factor = 3, seed = 5
                    grid { model.updater.learning-rate = [0.0005, 0.001, 0.002], train.seed = [1, 2, 3] }
                  }
                }""", "a.conf", null);
        assertEquals(new SweepSpec.Asha(1, 9, 3, "val_accuracy", "max"), spec.asha());
        assertEquals(List.of(1, 3), spec.asha().rungs(), "9 is where every trial ends, not a rung");
        assertEquals(9, spec.trials().size());
        SweepSpec grid = SweepSpec.parse("sweep { id = a, grid { model.updater.learning-rate = [0.0005, 0.001, 0.002], "
                + "train.seed = [1, 2, 3] } }", "a.conf", null);
        assertEquals(new java.util.HashSet<>(grid.trials()), new java.util.HashSet<>(spec.trials()), "the same trials");
        assertTrue(!grid.trials().equals(spec.trials()), "in a seeded order, not the grid's");
        assertEquals(spec.trials(), SweepSpec.parse(spec.text(), "a.conf", null).trials(), "the same order every time");

        SweepSpec random = SweepSpec.parse("sweep { asha { max-epochs = 4, reduction-factor = 2, metric = val_loss, "
                + "trials = 5, seed = 1, space { model.updater.learning-rate.log-uniform = [0.0001, 0.01] } } }", "r.conf", null);
        assertEquals(new SweepSpec.Asha(1, 4, 2, "val_loss", "min"), random.asha());
        assertEquals(List.of(1, 2), random.asha().rungs());
        assertEquals(5, random.trials().size());

        for (String[] bad : new String[][]{
                {"sweep { asha { max-epochs = 9, grid { train.seed = [1] }, space { train.seed.choice = [1] } } }",
                        "sweep.asha samples its trials from a grid { ... } (every combination) or a space { ... }"},
                {"sweep { asha { grid { train.seed = [1] } } }", "sweep.asha.max-epochs is missing"},
                {"sweep { asha { max-epochs = 1, grid { train.seed = [1] } } }", "expected 1 <= min-epochs < max-epochs"},
                {"sweep { asha { max-epochs = 9, reduction-factor = 1, grid { train.seed = [1] } } }", "reduction-factor = 1"},
                {"sweep { asha { max-epochs = 9, grid { train.epochs = [1, 2] } } }", "train.epochs is not set in an ASHA sweep"},
                {"sweep { asha { max-epochs = 9, eta = 3, grid { train.seed = [1] } } }", "unknown key 'sweep.asha.eta'"},
                {"sweep { grid { train.seed = [1] }, asha { max-epochs = 9, grid { train.seed = [1] } } }", "not more"}}) {
            ConfigException e = assertThrows(ConfigException.class, () -> SweepSpec.parse(bad[0], "b.conf", null), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    private AshaGate gate(SweepSpec.Asha asha, int trials) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < trials; i++) {
            ids.add("t" + i);
        }
        return new AshaGate(asha, new Warehouse(dir.resolve("wh").toString(), new Configuration()),
                new Path(dir.resolve("wh/sweeps/s").toUri()), ids, java.util.Set.of());
    }

    /** Runs a job as one slot would (parallel 1): the trial's epochs from where it is, the gate asked after each. */
    private static String run(AshaGate gate, AshaGate.Job job, int from, double... valAccuracy) {
        for (int e = from; e < from + valAccuracy.length; e++) {
            String answer = gate.afterEpoch(job.runId(), epoch(e, valAccuracy[e - from]));
            if (answer != null) {
                gate.ended(job, !AshaGate.PAUSE.equals(answer));
                return answer;
            }
        }
        gate.ended(job, true);
        return null;
    }

    @Test
    void pausedTrialsArePromotedFromTheBestFloorNOverEtaOfTheirRungBeforeANewTrialStarts() {
        AshaGate gate = gate(new SweepSpec.Asha(1, 9, 3, "val_accuracy", "max"), 4);
        // Nothing to promote (floor(n/3) = 0 for n < 3): t0, t1, t2 start, each pausing at rung 0 (epoch 1).
        assertEquals(new AshaGate.Job("t0", "start"), gate.next());
        assertEquals(AshaGate.PAUSE, run(gate, new AshaGate.Job("t0", "start"), 1, 0.90));
        assertEquals(new AshaGate.Job("t1", "start"), gate.next());
        assertEquals(AshaGate.PAUSE, run(gate, new AshaGate.Job("t1", "start"), 1, 0.85));
        AshaGate.Job t2 = gate.next();
        assertEquals(new AshaGate.Job("t2", "start"), t2);
        // 3 results at rung 0 once t2 has its own: the best 1 is t2, whose promotion is the next job anyway, so it goes
        // on without pausing (promoted in the record, before t3 starts) and pauses at rung 1 (epoch 3).
        assertNull(gate.afterEpoch("t2", epoch(1, 0.93)), "promoted at once");
        assertNull(gate.afterEpoch("t2", epoch(1, 0.93)), "asked again about its rung: promoted, go on");
        assertEquals(AshaGate.PAUSE, run(gate, t2, 2, 0.94, 0.95));
        assertEquals(new AshaGate.Job("t3", "start"), gate.next());
        assertEquals(AshaGate.PAUSE, run(gate, new AshaGate.Job("t3", "start"), 1, 0.80));
        // 4 results at rung 0 keep 1 (t2, promoted already), 1 at rung 1 keeps 0, no trial left: the paused ones are
        // committed where they stopped, each told why.
        List<String> stops = new ArrayList<>();
        for (AshaGate.Job job = gate.next(); !job.kind().equals("done"); job = gate.next()) {
            assertEquals("stop", job.kind());
            int rung = job.runId().equals("t2") ? 3 : 1;
            stops.add(job.runId() + ": " + run(gate, job, rung, 0.0));
        }
        assertEquals(List.of(
                "t0: ASHA: stopped at rung 0 (1 epoch): val_accuracy 0.9000 ranked 2 of the 4 trials there, the best 1 were promoted",
                "t1: ASHA: stopped at rung 0 (1 epoch): val_accuracy 0.8500 ranked 3 of the 4 trials there, the best 1 were promoted",
                "t2: ASHA: stopped at rung 1 (3 epochs): val_accuracy 0.9500 ranked 1 of the 1 trials there, the best 0 were promoted",
                "t3: ASHA: stopped at rung 0 (1 epoch): val_accuracy 0.8000 ranked 4 of the 4 trials there, the best 1 were promoted"),
                stops);
        assertNull(gate.afterEpoch("t0", epoch(2, 0.5)), "epoch 2 is no rung");
    }

    @Test
    void aRestartedSweepKeepsItsRecordAndResumesTheTrialInFlightFirst() {
        SweepSpec.Asha asha = new SweepSpec.Asha(1, 4, 2, "val_loss", "min");
        AshaGate before = gate(asha, 3);
        run(before, before.next(), 1, 0.80);                    // t0 pauses at rung 0 (val_loss 0.20)
        AshaGate.Job t1 = before.next();
        assertEquals(new AshaGate.Job("t1", "start"), t1);
        // t1 reaches rung 0 (val_loss 0.30): 2 results keep 1, t0, which its slot promotes next; t1 pauses.
        assertEquals(AshaGate.PAUSE, run(before, t1, 1, 0.70));
        assertEquals(new AshaGate.Job("t0", "continue"), before.next()); // ... and the sweep dies
        // A new process (the sweep run again): t0, promoted without a result at rung 1 yet, is resumed first.
        AshaGate after = gate(asha, 3);
        assertEquals(new AshaGate.Job("t0", "continue"), after.next());
        List<AshaGate.Event> recorded = AshaGate.read(new Warehouse(dir.resolve("wh").toString(), new Configuration()),
                new Path(dir.resolve("wh/sweeps/s/asha.jsonl").toUri()));
        assertEquals(List.of("result t0 0", "result t1 0", "promotion t0 0"),
                recorded.stream().map(e -> e.event() + " " + e.runId() + " " + e.rung()).toList());
        assertEquals(List.of(1, 2, 3), recorded.stream().map(AshaGate.Event::order).toList());
        assertTrue(Double.isNaN(recorded.get(2).metric()));
        assertEquals(0.30, recorded.get(1).metric(), 1e-9);
    }
}
