package dev.imgtrain.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The promotion gate on a local warehouse with hand-made committed runs (a run's model.zip is copied as bytes). */
class ModelRegistryTest {
    private static void run(Path wh, String id, double accuracy) throws Exception {
        Path dir = Files.createDirectories(wh.resolve("runs/" + id));
        Files.writeString(dir.resolve("params.json"), "{\"run_id\": \"" + id + "\", \"dataset\": \"mnist\"}");
        Files.writeString(dir.resolve("evaluation.json"), "{\"accuracy\": " + accuracy + "}");
        Files.write(dir.resolve("model.zip"), ("model of " + id).getBytes());
        Files.writeString(dir.resolve("_SUCCESS"), "");
    }

    private static Warehouse warehouse(Path wh) {
        return new Warehouse(wh.toString(), new Configuration());
    }

    @Test
    void firstWinsThenOnlyABetterRunAndTheCurrentRunAgainChangesNothing(@TempDir Path wh) throws Exception {
        run(wh, "a", 0.90);
        run(wh, "b", 0.95);
        run(wh, "c", 0.951);
        ModelRegistry r = new ModelRegistry(warehouse(wh));
        assertNull(r.current("mnist"));
        assertEquals(ModelRegistry.Outcome.PROMOTED, r.promote("mnist", "a", 0).outcome());
        assertEquals(ModelRegistry.Outcome.ALREADY_CURRENT, r.promote("mnist", "a", 0).outcome());
        assertEquals(ModelRegistry.Outcome.PROMOTED, r.promote("mnist", "b", 0.01).outcome());
        ModelRegistry.Decision refused = r.promote("mnist", "c", 0.01);
        assertEquals(ModelRegistry.Outcome.NOT_PROMOTED, refused.outcome());
        assertEquals("not promoted: run c has test accuracy 0.9510, current b has 0.9500; a promotion needs more "
                + "than 0.9500 + 0.01", refused.reason());
        assertEquals("b", r.current("mnist").runId());
        List<JsonNode> history = r.history("mnist");
        assertEquals(List.of("a", "b"), history.stream().map(h -> h.path("run_id").asText()).toList());
        assertEquals("a", history.get(1).path("previous_run_id").asText());
        assertArrayEquals("model of b".getBytes(), Files.readAllBytes(wh.resolve("models/mnist/versions/b/model.zip")));
        assertTrue(r.current("mnist").model().endsWith("models/mnist/versions/b/model.zip"));

        assertEquals(ModelRegistry.Outcome.PROMOTED, r.promote("mnist", "a", 0, true).outcome(), "a forced rollback");
        assertEquals("a", r.current("mnist").runId());
        assertTrue(r.history("mnist").get(2).path("forced").asBoolean());
        assertThrows(IllegalStateException.class, () -> r.promote("mnist", "nope", 0));
        assertThrows(IllegalStateException.class, () -> r.promote("cifar10", "a", 0), "trained on mnist");
    }

    @Test
    void twoPromotesRacingNeverBothWinNorLeaveAMix(@TempDir Path root) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                Path wh = root.resolve("wh" + round);
                run(wh, "worse", 0.90);
                run(wh, "better", 0.95);
                CyclicBarrier start = new CyclicBarrier(2);
                List<Future<ModelRegistry.Decision>> both = new ArrayList<>();
                for (String id : List.of("worse", "better")) {
                    Callable<ModelRegistry.Decision> promote = () -> {
                        ModelRegistry r = new ModelRegistry(warehouse(wh)); // each its own registry, as two processes
                        start.await();
                        return r.promote("mnist", id, 0);
                    };
                    both.add(pool.submit(promote));
                }
                ModelRegistry.Decision worse = both.get(0).get();
                ModelRegistry.Decision better = both.get(1).get();
                ModelRegistry r = new ModelRegistry(warehouse(wh));
                assertEquals("better", r.current("mnist").runId(), "round " + round);
                assertEquals(ModelRegistry.Outcome.PROMOTED, better.outcome());
                List<String> history = r.history("mnist").stream().map(h -> h.path("run_id").asText()).toList();
                // Either "worse" went first and "better" replaced it, or "better" went first and "worse" was refused.
                if (worse.outcome() == ModelRegistry.Outcome.PROMOTED) {
                    assertEquals(List.of("worse", "better"), history, "round " + round);
                } else {
                    assertEquals(ModelRegistry.Outcome.NOT_PROMOTED, worse.outcome());
                    assertEquals(List.of("better"), history, "round " + round);
                }
                assertTrue(Files.notExists(wh.resolve("models/mnist/_promote.lock")), "lock released");
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
