package dev.imgtrain.train;

import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.config.PipelineConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An epoch's averaging rounds (TrainJob.rounds): every file once, a seeded order per epoch, the short files last. */
class RoundsTest {
    private static List<String> files() {
        List<String> files = new ArrayList<>();
        for (int task = 0; task < 2; task++) {
            for (int n = 0; n < 20; n++) {
                files.add(String.format("file:/b/part-%05d-batch-%06d.bin", task, n));
            }
            files.add(String.format("file:/b/part-%05d-batch-%06d-partial.bin", task, 20));
        }
        return files;
    }

    @Test
    void everyFileOnceInASeededOrderWithTheShortFilesLast() {
        PipelineConfig.TrainConfig tc = new ConfigLoader().withSetting("train.workers=2")
                .withSetting("train.averaging-frequency=4").load().train();
        List<List<String>> rounds = TrainJob.rounds(files(), tc, 1);
        assertEquals(6, rounds.size(), "42 files, 8 a round: " + rounds);
        rounds.subList(0, 5).forEach(r -> assertEquals(8, r.size()));
        List<String> order = rounds.stream().flatMap(List::stream).toList();
        assertEquals(new HashSet<>(files()), new HashSet<>(order));
        assertEquals(files().size(), order.size());
        assertTrue(MiniBatches.isPartial(order.get(40)) && MiniBatches.isPartial(order.get(41)), order.toString());
        assertTrue(order.subList(0, 40).stream().noneMatch(MiniBatches::isPartial), order.toString());

        assertEquals(rounds, TrainJob.rounds(files(), tc, 1), "the same seed and epoch, the same rounds");
        assertNotEquals(rounds, TrainJob.rounds(files(), tc, 2), "another epoch, another order");
    }
}
