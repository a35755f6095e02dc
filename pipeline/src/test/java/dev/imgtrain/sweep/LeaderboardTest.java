package dev.imgtrain.sweep;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 28: a leaderboard ranks on the validation split alone; test accuracy is shown and never used. */
class LeaderboardTest {
    private static Leaderboard.Row row(String runId, Double val, Double test, String validation) {
        return new Leaderboard.Row(runId, val == null ? "failed" : "done", Map.of("lr", runId), val, 0.1, val, 0.1, 1, test,
                val == null ? null : 3, 1.0, 1000.0, val == null ? "diverged" : null, List.of(), validation);
    }

    private static List<String> ranked(List<Leaderboard.Row> rows) {
        List<Leaderboard.Row> copy = new ArrayList<>(rows);
        Leaderboard.rank(copy);
        return copy.stream().map(Leaderboard.Row::runId).toList();
    }

    @Test
    void theRankingDoesNotMoveWhenTestAccuracyIsPerturbed() {
        Random random = new Random(28);
        List<Leaderboard.Row> rows = new ArrayList<>();
        for (int i = 0; i < 27; i++) {
            double val = 0.9 + random.nextInt(900) / 10_000.0;
            rows.add(row("t" + i, val, val + random.nextGaussian() * 0.01, "hold-out 0.1 of train"));
        }
        rows.add(row("failed", null, null, null));
        List<String> before = ranked(rows);
        assertEquals("failed", before.get(before.size() - 1), "trials without a figure last");
        List<Double> sortedVal = new ArrayList<>();
        for (String id : before.subList(0, 27)) {
            sortedVal.add(rows.stream().filter(r -> r.runId().equals(id)).findFirst().orElseThrow().finalValAccuracy());
        }
        for (int i = 1; i < sortedVal.size(); i++) {
            assertTrue(sortedVal.get(i - 1) >= sortedVal.get(i), "best validation accuracy first: " + sortedVal);
        }
        for (int round = 0; round < 20; round++) {
            List<Leaderboard.Row> perturbed = new ArrayList<>();
            for (Leaderboard.Row r : rows) {
                Double test = r.testAccuracy() == null ? null : random.nextDouble(); // any test accuracy at all
                perturbed.add(new Leaderboard.Row(r.runId(), r.status(), r.params(), r.finalValAccuracy(), r.finalValLoss(),
                        r.bestValAccuracy(), r.bestValLoss(), r.bestEpoch(), test, r.epochs(), r.trainSeconds(),
                        r.examplesPerSecond(), r.reason(), r.valAccuracy(), r.validation()));
            }
            assertEquals(before, ranked(perturbed), "round " + round);
        }
        // The ranking does follow the validation figure: changing one moves its trial.
        List<Leaderboard.Row> moved = new ArrayList<>(rows);
        String last = before.get(26);
        moved.replaceAll(r -> r.runId().equals(last) ? row(last, 0.9999, r.testAccuracy(), r.validation()) : r);
        assertEquals(last, ranked(moved).get(0));
        assertNotEquals(before, ranked(moved));
    }

    @Test
    void thePageSaysWhichSplitRanked() {
        Leaderboard holdOut = new Leaderboard(List.of("lr"), List.of(row("a", 0.95, 0.94, "hold-out 0.1 of train")));
        assertEquals("Ranked by the committed model's validation accuracy on hold-out 0.1 of train. Test accuracy is shown "
                + "beside it and is not used for the ranking.", SweepPage.rankedOn(holdOut));
        Leaderboard old = new Leaderboard(List.of("lr"), List.of(row("a", 0.95, 0.95, "test split"),
                row("b", 0.96, 0.95, "hold-out 0.1 of train")));
        assertTrue(SweepPage.rankedOn(old).contains("on test split / hold-out 0.1 of train")
                && SweepPage.rankedOn(old).contains("their ranking looked at the test set"), SweepPage.rankedOn(old));
    }
}
