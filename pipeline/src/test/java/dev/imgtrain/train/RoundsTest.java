package dev.imgtrain.train;

import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.config.PipelineConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An epoch's averaging rounds (TrainJob.rounds): every file once, a seeded order per epoch; the short files last with
 * model.short-batches = last, where the shuffle puts them with merge.
 */
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
                .withSetting("train.averaging-frequency=4").withSetting("model.short-batches=last").load().train();
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

    @Test
    void withMergeTheShortFilesStayWhereTheShufflePutsThem() {
        ConfigLoader loader = new ConfigLoader().withSetting("train.workers=2").withSetting("train.averaging-frequency=4");
        PipelineConfig.TrainConfig merge = loader.withSetting("model.short-batches=merge").load().train();
        PipelineConfig.TrainConfig last = loader.withSetting("model.short-batches=last").load().train();
        assertTrue(!merge.shortBatchesLast() && last.shortBatchesLast());
        assertTrue(new ConfigLoader().load().train().shortBatchesLast(), "mnist-dense-512 fits them last");
        assertFalse(new ConfigLoader().withFlag("train.preset", "fashion-dense-512").load().train().shortBatchesLast(),
                "fashion-dense-512 merges");
        assertTrue(new ConfigLoader().withFlag("train.preset", "cifar10-dense-32-16").load().train().shortBatchesLast(),
                "cifar10-dense-32-16 fits them last");
        List<String> merged = TrainJob.rounds(files(), merge, 3).stream().flatMap(List::stream).toList();
        List<String> moved = TrainJob.rounds(files(), last, 3).stream().flatMap(List::stream).toList();
        List<String> fullOnly = merged.stream().filter(p -> !MiniBatches.isPartial(p)).toList();
        assertEquals(fullOnly, moved.subList(0, 40), "the same shuffle; only the short files move");
        assertTrue(Math.min(merged.indexOf(moved.get(40)), merged.indexOf(moved.get(41))) < 40,
                "with merge a short file sits before the end (this seed's shuffle): " + merged);
    }
}
