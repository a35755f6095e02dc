package dev.imgtrain.sweep;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.config.ConfigLoader;
import dev.imgtrain.config.PipelineConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SweepSpecTest {
    private static SweepSpec parse(String text) {
        return SweepSpec.parse(text, "test.conf", null);
    }

    private static String error(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> SweepJob.configs(parse(text), ConfigLoader::new, null));
        return e.getMessage();
    }

    @Test
    void theShippedMnistSpecHasSixTrialsWithStableIds() throws Exception {
        String text = Files.readString(Path.of("../conf/sweeps/mnist-quick.conf"));
        SweepSpec spec = SweepSpec.parse(text, "mnist-quick.conf", null);
        assertEquals("mnist-quick", spec.id());
        assertEquals(List.of("model.hidden", "model.updater.learning-rate"), spec.sweptKeys());
        assertEquals(6, spec.trials().size());
        Set<String> ids = new HashSet<>();
        spec.trials().forEach(t -> ids.add(t.runId()));
        assertEquals(6, ids.size(), "distinct run ids");
        assertEquals(spec.trials(), SweepSpec.parse(text, "mnist-quick.conf", null).trials(), "the same trials, the same ids");
        assertTrue(spec.trials().get(0).runId().matches("mnist-quick-[0-9a-f]{8}"), spec.trials().get(0).runId());

        Map<SweepSpec.Trial, PipelineConfig> configs = SweepJob.configs(spec, ConfigLoader::new, null);
        PipelineConfig first = configs.get(spec.trials().get(0));
        assertEquals(2, first.train().epochs(), "base");
        assertEquals(128, first.model().hidden().get(0).units(), "swept");
        assertEquals(0.0005, first.model().updater().learningRate(), 1e-12, "swept");
        assertEquals(spec.trials().get(0).runId(), first.train().runId());
        assertEquals("mnist", first.dataset());
        assertEquals(SweepJob.VALIDATION_FRACTION, first.train().validationFraction(), "a sweep ranks on a hold-out of train");
    }

    @Test
    void aSweepHoldsOutPartOfTrainAndRefusesToRankOnTheTestSplit() {
        SweepSpec spec = parse("sweep { id = s, grid { model.updater.learning-rate = [0.01] } }");
        assertEquals(0.2, SweepJob.configs(spec, () -> new ConfigLoader().withSetting("train.validation-fraction=0.2"), null)
                .values().iterator().next().train().validationFraction(), "--set wins over the sweep's default");
        SweepSpec inBase = parse("sweep { id = s, base { train.validation-fraction = 0.15 }, grid { train.seed = [1] } }");
        assertEquals(0.15, SweepJob.configs(inBase, ConfigLoader::new, null).values().iterator().next().train()
                .validationFraction());
        ConfigException zero = assertThrows(ConfigException.class, () -> SweepJob.configs(spec,
                () -> new ConfigLoader().withSetting("train.validation-fraction=0"), null));
        assertEquals("sweep s: train.validation-fraction = 0 would rank the trials on the test split, and the best trial's "
                + "test accuracy would then overstate it; give a hold-out of train in (0, 0.5) (a sweep's default is 0.1)",
                zero.getMessage());
    }

    @Test
    void theShippedCifarSpecChecks() throws Exception {
        SweepSpec spec = SweepSpec.parse(Files.readString(Path.of("../conf/sweeps/cifar10-width.conf")), "cifar10-width.conf", null);
        Map<SweepSpec.Trial, PipelineConfig> configs = SweepJob.configs(spec, ConfigLoader::new, null);
        assertEquals(4, configs.size());
        assertEquals("cifar10", configs.values().iterator().next().dataset());
        assertEquals(List.of(256, 128), configs.get(spec.trials().get(3)).model().hidden().stream()
                .map(h -> h.units()).toList());
    }

    @Test
    void aTrialsIdDependsOnItsValuesNotOnTheirOrderOrTheOtherTrials() {
        SweepSpec a = parse("sweep { id = s, grid { train.seed = [1, 2], model.updater.learning-rate = [0.01] } }");
        SweepSpec b = parse("sweep { id = s, grid { model.updater.learning-rate = [0.01], train.seed = [2, 3, 1] } }");
        Set<String> common = new HashSet<>(a.trials().stream().map(SweepSpec.Trial::runId).toList());
        common.retainAll(b.trials().stream().map(SweepSpec.Trial::runId).toList());
        assertEquals(2, common.size());
        assertNotEquals(a.trials().get(0).runId(), a.trials().get(1).runId());
    }

    @Test
    void randomSearchIsSeededAndStaysInItsRanges() {
        String text = "sweep { id = r, random { trials = 5, seed = 3, space { model.updater.learning-rate.log-uniform = "
                + "[0.0001, 0.01], train.seed.int-uniform = [1, 4], train.preset.choice = [mnist-dense-512, mnist-dense-32-16] } } }";
        SweepSpec one = parse(text);
        assertEquals(one.trials(), parse(text).trials(), "same seed, same trials");
        assertTrue(one.trials().size() >= 4 && one.trials().size() <= 5, one.trials().toString());
        for (SweepSpec.Trial t : one.trials()) {
            double lr = ((Number) t.params().get("model.updater.learning-rate").unwrapped()).doubleValue();
            int seed = ((Number) t.params().get("train.seed").unwrapped()).intValue();
            assertTrue(lr >= 0.0001 && lr <= 0.01 && seed >= 1 && seed <= 4, t.label());
        }
        SweepJob.configs(one, ConfigLoader::new, null);
        assertNotEquals(one.trials(), parse(text.replace("seed = 3", "seed = 4")).trials());
    }

    @Test
    void badSpecsExitWithTheKeyNamed() {
        assertEquals("sweep spec test.conf: unknown key 'sweep.grdi'; known: [asha, base, dataset, grid, id, random]",
                error("sweep { grdi { train.seed = [1] } }"));
        assertEquals("sweep spec test.conf: sweep.grid is empty: give at least one key and its values",
                error("sweep { grid {} }"));
        assertEquals("sweep spec test.conf: sweep.grid.train.seed = []: expected at least one value",
                error("sweep { grid { train.seed = [] } }"));
        assertEquals("sweep spec test.conf: sweep.random.trials = 0: expected a budget in [1, 1000]",
                error("sweep { random { trials = 0, space { train.seed.choice = [1] } } }"));
        assertEquals("sweep spec test.conf: sweep.random.trials = many: expected an integer",
                error("sweep { random { trials = many, space { train.seed.choice = [1] } } }"));
        assertEquals("sweep spec test.conf: sweep.grid.train.epochs = 3: expected a list of values, e.g. [0.001, 0.01]",
                error("sweep { grid { train.epochs = 3 } }"));
        assertEquals("sweep spec test.conf: give one of sweep.grid, sweep.random or sweep.asha, none is there",
                error("sweep { id = x }"));
        assertTrue(error("sweep { id = s, grid { train.epoch = [1, 2] } }")
                .startsWith("sweep s, trial train.epoch=1: unknown configuration key [train.epoch]"));
        assertEquals("sweep s, trial train.epochs=two: train.epochs = \"two\": expected an integer",
                error("sweep { id = s, grid { train.epochs = [two] } }"));
        assertTrue(error("sweep { grid { warehouse = [/a, /b] } }").startsWith("sweep spec test.conf: sweep.grid.warehouse: not a trial setting"));
        assertTrue(error("sweep { random { trials = 2, space { model.updater.learning-rate.log-uniform = [0, 1] } } }")
                .contains("sweep.random.space.model.updater.learning-rate.log-uniform = [0,1]: expected low < high, both above 0"));
    }
}
