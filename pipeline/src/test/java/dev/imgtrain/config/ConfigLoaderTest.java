package dev.imgtrain.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    private static String error(ConfigLoader loader) {
        return assertThrows(ConfigException.class, loader::load).getMessage();
    }

    @Test
    void embeddedDefaults() {
        PipelineConfig c = new ConfigLoader().load();
        assertEquals("mnist", c.dataset());
        assertEquals("data/mnist", c.sourceOrDefault());
        assertEquals("./warehouse", c.warehouse());
        assertEquals("mnist-dense-512", c.train().preset());
        assertEquals(10, c.train().epochs());
        assertEquals(2, c.train().workers());
        assertEquals(64, c.train().batchSizePerWorker(), "the preset's global batch of 128 split over 2 workers");
        assertEquals(235, c.train().averagingFrequency(), "mnist-dense-512's own (train.averaging-frequency = 0)");
        assertEquals(PipelineConfig.TrainConfig.PREFETCH_AUTO, c.train().prefetch());
        assertEquals(1024, c.train().batchCacheMb());
        assertEquals("rmsprop", c.model().updater().name());
        assertEquals(0.002, c.model().updater().learningRate());
        assertEquals(new dev.imgtrain.train.Callbacks.LrDecay(true, 0.6, 1, 2, 0), c.train().lrDecay(), "the preset's schedule");
        assertEquals(512, c.model().hidden().get(0).units());
    }

    @Test
    void averagingFrequencyIsThePresetsUnlessTrainSetsIt() {
        assertEquals(400, new ConfigLoader().withFlag("train.preset", "cifar10-dense-32-16").load().train().averagingFrequency());
        assertEquals(20, new ConfigLoader().withFlag("train.preset", "mnist-dense-32-16").load().train().averagingFrequency());
        assertEquals(7, new ConfigLoader().withSetting("train.averaging-frequency=7").load().train().averagingFrequency());
        assertEquals(9, new ConfigLoader().withSetting("model.averaging-frequency=9").load().train().averagingFrequency());
        assertEquals("model.averaging-frequency = 0: expected an integer in [1, 100000]",
                error(new ConfigLoader().withSetting("model.averaging-frequency=0")));
        assertEquals("train.averaging-frequency = -1: expected an integer in [0, 100000]",
                error(new ConfigLoader().withSetting("train.averaging-frequency=-1")));
    }

    @Test
    void blockMomentumIsThePresetsUnlessTrainSetsItAndAutoIsOneMinusOneOverTheWorkers() {
        assertEquals(0.6, new ConfigLoader().load().train().blockMomentum(), "mnist-dense-512's");
        assertEquals(0.0, new ConfigLoader().withFlag("train.preset", "fashion-dense-512").load().train().blockMomentum());
        assertEquals(0.0, new ConfigLoader().withSetting("train.block-momentum=0").load().train().blockMomentum());
        assertEquals(0.3, new ConfigLoader().withSetting("model.block-momentum=0.3").load().train().blockMomentum());
        assertEquals(0.75, new ConfigLoader().withSetting("train.block-momentum=auto").withSetting("train.workers=4")
                .load().train().blockMomentum());
        assertEquals(0.0, new ConfigLoader().withSetting("train.block-momentum=auto").withSetting("train.workers=1")
                .load().train().blockMomentum(), "one worker: nothing to make up for");
        assertEquals(1.0, new ConfigLoader().load().train().blockLearningRate());
        assertEquals("train.block-momentum = 1.0: expected auto or a number in [0, 0.99]",
                error(new ConfigLoader().withSetting("train.block-momentum=1")));
        assertEquals("model.block-momentum = \"lots\": expected auto or a number in [0, 0.99]",
                error(new ConfigLoader().withSetting("model.block-momentum=lots")));
    }

    @Test
    void prefetchAutoIsNoneForLocalBatchFilesAndTwoElsewhereUnlessANumberIsSet() {
        PipelineConfig.TrainConfig auto = new ConfigLoader().load().train();
        java.util.List<String> local = java.util.List.of("file:/tmp/b/part-0.bin", "file:/tmp/b/part-1.bin");
        assertEquals(0, auto.prefetchFor(local));
        assertEquals(2, auto.prefetchFor(java.util.List.of("s3a://bucket/w/_scratch/part-0.bin")));
        assertEquals(2, auto.prefetchFor(java.util.List.of("file:/tmp/b/part-0.bin", "hdfs://nn:8020/w/part-1.bin")));
        PipelineConfig.TrainConfig three = new ConfigLoader().withSetting("train.prefetch=3").load().train();
        assertEquals(3, three.prefetchFor(local));
        assertEquals("train.prefetch = \"soon\": expected auto or an integer in [0, 1000]",
                error(new ConfigLoader().withSetting("train.prefetch=soon")));
        assertEquals("train.prefetch = 1001: expected auto or an integer in [0, 1000]",
                error(new ConfigLoader().withSetting("train.prefetch=1001")));
    }

    @Test
    void precedenceIsDefaultsThenFileThenSetThenFlags(@TempDir Path dir) throws Exception {
        File file = dir.resolve("my.conf").toFile();
        Files.writeString(file.toPath(), "train { epochs = 3, workers = 3, seed = 3 }\nwarehouse = \"/from/file\"\n");
        PipelineConfig c = new ConfigLoader().withFile(file)
                .withSetting("train.workers=4").withSetting("train.seed=4")
                .withFlag("train.seed", 5L)
                .load();
        assertEquals(3, c.train().epochs(), "file over default");
        assertEquals(4, c.train().workers(), "--set over file");
        assertEquals(5, c.train().seed(), "flag over --set");
        assertEquals("/from/file", c.warehouse());
    }

    @Test
    void laterSetWinsAndUrisNeedNoQuotes() {
        PipelineConfig c = new ConfigLoader().withSetting("train.epochs=2").withSetting("train.epochs=7")
                .withSetting("warehouse=s3a://bucket/some/prefix").load();
        assertEquals(7, c.train().epochs());
        assertEquals("s3a://bucket/some/prefix", c.warehouse());
    }

    @Test
    void s3aSettingsBecomeHadoopPropertiesAndCredentialsAreNoKeys(@TempDir Path dir) throws Exception {
        PipelineConfig defaults = new ConfigLoader().load();
        assertEquals(java.util.Map.of("fs.s3a.committer.name", "magic", "fs.s3a.committer.magic.enabled", "true",
                        "mapreduce.outputcommitter.factory.scheme.s3a", "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory",
                        // bounded retries (issue 17): storage.s3a.retries = 3, request-timeout = 30s
                        "fs.s3a.retry.limit", "3", "fs.s3a.retry.interval", "1s", "fs.s3a.attempts.maximum", "1",
                        "fs.s3a.connection.timeout", "30000"),
                dev.imgtrain.store.ObjectStorage.hadoopSettings(defaults.storage()),
                "unset keys leave S3A's own values (and spark.hadoop.fs.s3a.*) in force; retries are always bounded");
        assertEquals("5", dev.imgtrain.store.ObjectStorage.hadoopSettings(new ConfigLoader()
                .withSetting("storage.s3a.retries=5").load().storage()).get("fs.s3a.retry.limit"));

        File local = Path.of(System.getProperty("user.dir"), "..", "conf", "s3-local.conf").toFile();
        PipelineConfig c = new ConfigLoader().withFile(local).withSetting("storage.s3a.endpoint=http://127.0.0.1:9123").load();
        var hadoop = dev.imgtrain.store.ObjectStorage.hadoopSettings(c.storage());
        assertEquals("http://127.0.0.1:9123", hadoop.get("fs.s3a.endpoint"));
        assertEquals("false", hadoop.get("fs.s3a.connection.ssl.enabled"));
        assertEquals("true", hadoop.get("fs.s3a.path.style.access"));
        assertEquals("us-east-1", hadoop.get("fs.s3a.endpoint.region"));

        ConfigException path = assertThrows(ConfigException.class,
                () -> new ConfigLoader().withSetting("storage.s3a.endpoint=127.0.0.1:9000/x").load());
        assertTrue(path.getMessage().startsWith("storage.s3a.endpoint = 127.0.0.1:9000/x: expected an http:// or https:// URL"),
                path.getMessage());
        ConfigException secret = assertThrows(ConfigException.class,
                () -> new ConfigLoader().withSetting("storage.s3a.secret-key=abc").load());
        assertTrue(secret.getMessage().contains("storage.s3a.secret-key]: credentials are never configuration"), secret.getMessage());
        assertFalse(secret.getMessage().contains("abc"), "a refused value that may be a secret is not echoed: " + secret.getMessage());
    }

    @Test
    void unknownKeyIsRefusedByName() {
        String message = error(new ConfigLoader().withSetting("train.epoch=3"));
        assertTrue(message.startsWith("unknown configuration key [train.epoch]; known keys: ["), message);
        assertTrue(message.contains("train.epochs"), message);
    }

    @Test
    void unknownKeyInAFileIsRefused(@TempDir Path dir) throws Exception {
        File file = dir.resolve("typo.conf").toFile();
        Files.writeString(file.toPath(), "trian { epochs = 3 }");
        assertTrue(error(new ConfigLoader().withFile(file)).startsWith("unknown configuration key [trian.epochs]"));
    }

    @Test
    void missingConfigFile(@TempDir Path dir) {
        File file = dir.resolve("absent.conf").toFile();
        assertEquals("--config " + file + ": no such file",
                assertThrows(ConfigException.class, () -> new ConfigLoader().withFile(file)).getMessage());
    }

    @Test
    void badValuesNameKeyValueAndRange() {
        assertEquals("train.epochs = 0: expected an integer in [1, 10000]", error(new ConfigLoader().withFlag("train.epochs", 0)));
        assertEquals("train.workers = -1: expected an integer in [1, 10000]", error(new ConfigLoader().withFlag("train.workers", -1)));
        assertEquals(0, new ConfigLoader().withSetting("train.batch-cache-mb=0").load().train().batchCacheMb());
        assertEquals("train.batch-cache-mb = -1: expected an integer in [0, 1048576]",
                error(new ConfigLoader().withSetting("train.batch-cache-mb=-1")));
        assertEquals("train.epochs = \"ten\": expected an integer", error(new ConfigLoader().withSetting("train.epochs=ten")));
        assertEquals("train.validation-fraction = 0.7: expected a value in [0, 0.5)",
                error(new ConfigLoader().withSetting("train.validation-fraction=0.7")));
        assertEquals("train.stop-at-accuracy = 1.5: expected a number in [0, 1]",
                error(new ConfigLoader().withSetting("train.stop-at-accuracy=1.5")));
        assertEquals("train.stop-at-accuracy = \"high\": expected a number in [0, 1]",
                error(new ConfigLoader().withSetting("train.stop-at-accuracy=high")));
        assertEquals(0.98, new ConfigLoader().withSetting("train.stop-at-accuracy=0.98").load().train().stopAtAccuracy());
        // Keras' callbacks (issue 28).
        PipelineConfig.TrainConfig callbacks = new ConfigLoader().withSetting("train.early-stopping.enabled=true")
                .withSetting("train.early-stopping.monitor=val_accuracy").withSetting("train.reduce-lr-on-plateau.factor=0.5")
                .withSetting("train.keep-checkpoints=best").load().train();
        assertEquals(new dev.imgtrain.train.Callbacks.EarlyStopping(true, "val_accuracy", 3, 0, false), callbacks.earlyStopping());
        assertEquals(new dev.imgtrain.train.Callbacks.ReduceLrOnPlateau(false, "val_loss", 0.5, 10, 0.0001, 0, 0),
                callbacks.reduceLrOnPlateau());
        assertEquals("best", callbacks.keepCheckpoints());
        assertTrue(callbacks.callbacksActive());
        assertEquals("train.reduce-lr-on-plateau.factor = 1.0: expected a number above 0 and below 1",
                error(new ConfigLoader().withSetting("train.reduce-lr-on-plateau.factor=1")));
        assertEquals("train.early-stopping.monitor = 'loss': expected one of [val_loss, val_accuracy]",
                error(new ConfigLoader().withSetting("train.early-stopping.monitor=loss")));
        assertEquals("train.keep-checkpoints = 'some': expected one of [all, last, best]",
                error(new ConfigLoader().withSetting("train.keep-checkpoints=some")));
        assertEquals("dataset = 'imagenet': expected one of [mnist, fashion-mnist, cifar10]", error(new ConfigLoader().withFlag("dataset", "imagenet")));
        assertEquals("train.run-id = 'a/b': a run id is 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit",
                error(new ConfigLoader().withFlag("train.run-id", "a/b")));
        assertEquals("warehouse is empty: expected a value", error(new ConfigLoader().withFlag("warehouse", " ")));
    }

    @Test
    void unknownPresetListsTheKnownOnes() {
        assertEquals("train.preset = 'resnet': no such preset; known presets: [mnist-dense-512, mnist-dense-32-16, "
                        + "fashion-dense-512, cifar10-dense-32-16, cifar10-dense-512-256]",
                error(new ConfigLoader().withFlag("train.preset", "resnet")));
    }

    @Test
    void presetKeysCanBeOverriddenAndAreChecked() {
        PipelineConfig c = new ConfigLoader().withFlag("train.preset", "mnist-dense-32-16")
                .withSetting("model.updater.learning-rate=0.05")
                .withSetting("model.hidden=[{units=64, activation=tanh}]").load();
        assertEquals("sgd", c.model().updater().name());
        assertEquals(0.05, c.model().updater().learningRate());
        assertEquals(16, c.train().batchSizePerWorker(), "the preset's global batch of 32 split over 2 workers");
        assertEquals(1, c.model().hidden().size());
        assertEquals(64, c.model().hidden().get(0).units());
        assertEquals("tanh", c.model().hidden().get(0).activation());

        assertEquals("model.updater.name = 'adagrad': expected one of [sgd, rmsprop, adam, nesterovs]",
                error(new ConfigLoader().withSetting("model.updater.name=adagrad")));
        assertEquals("model.updater.learning-rate = -0.1: expected a positive number",
                error(new ConfigLoader().withSetting("model.updater.learning-rate=-0.1")));
        assertEquals("model.hidden[0].activation = 'swish': expected one of [relu, tanh, sigmoid, softmax, identity, elu, leakyrelu]",
                error(new ConfigLoader().withSetting("model.hidden=[{units=8, activation=swish}]")));
        assertTrue(error(new ConfigLoader().withSetting("model.dropout=0.5")).startsWith("unknown configuration key [model.dropout]"));
    }

    @Test
    void rmspropImplementationIsJavaUnlessSetToNd4j() {
        assertEquals("java", new ConfigLoader().load().model().updater().implementation());
        assertEquals("java", new ConfigLoader().withFlag("train.preset", "fashion-dense-512").load().model().updater().implementation());
        assertEquals("nd4j", new ConfigLoader().withSetting("model.updater.implementation=ND4J").load().model().updater().implementation());
        assertEquals("model.updater.implementation = 'cuda': expected one of [java, nd4j]",
                error(new ConfigLoader().withSetting("model.updater.implementation=cuda")));
        // Only the RMSProp presets have the key: elsewhere it would do nothing, so it is refused.
        assertTrue(error(new ConfigLoader().withFlag("train.preset", "mnist-dense-32-16")
                .withSetting("model.updater.implementation=nd4j")).startsWith("unknown configuration key [model.updater.implementation]"));
    }

    @Test
    void perWorkerBatchIsTheGlobalBatchSplitRoundedUpUnlessSetExplicitly() {
        assertEquals(43, new ConfigLoader().withFlag("train.workers", 3).load().train().batchSizePerWorker());
        assertEquals(128, new ConfigLoader().withFlag("train.workers", 1).load().train().batchSizePerWorker());
        assertEquals(100, new ConfigLoader().withFlag("train.workers", 3).withSetting("train.batch-size=100").load()
                .train().batchSizePerWorker());
        assertEquals(1, new ConfigLoader().withFlag("train.workers", 500).load().train().batchSizePerWorker());
    }

    @Test
    void folderFormatTakesAnyDatasetNameButChecksIt() {
        PipelineConfig c = new ConfigLoader().withFlag("format", "folder").withFlag("dataset", "my-images_2").load();
        assertEquals("folder", c.format());
        assertEquals("my-images_2", c.dataset());
        assertEquals("dataset = 'My Images': a dataset name is 1-64 lower-case letters, digits, '-' or '_', starting "
                + "with a letter or digit", error(new ConfigLoader().withFlag("format", "folder").withFlag("dataset", "My Images")));
        assertEquals("format = 'zip': expected one of [, folder]", error(new ConfigLoader().withFlag("format", "zip")));
        assertEquals("dataset = 'my-images': expected one of [mnist, fashion-mnist, cifar10]",
                error(new ConfigLoader().withFlag("dataset", "my-images")));
    }

    @Test
    void malformedSetIsRefused() {
        assertEquals("--set epochs: expected key=value",
                assertThrows(ConfigException.class, () -> new ConfigLoader().withSetting("epochs")).getMessage());
    }

    @Test
    void everyKnownPresetLoadsAndMatchesTheFilesInConf() throws Exception {
        try (var files = Files.list(Path.of(System.getProperty("user.dir"), "..", "conf", "models"))) {
            var names = files.map(p -> p.getFileName().toString().replace(".conf", "")).sorted().toList();
            assertEquals(ConfigLoader.knownPresets().stream().sorted().toList(), names);
        }
        for (String preset : ConfigLoader.knownPresets()) {
            assertEquals(preset, new ConfigLoader().withFlag("train.preset", preset).load().train().preset());
        }
    }

    @Test
    void renderedConfigHoldsTheEffectiveValues() {
        String rendered = new ConfigLoader().withFlag("train.epochs", 4).load().rendered();
        assertTrue(rendered.contains("\"epochs\" : 4"), rendered);
        assertTrue(rendered.contains("\"learning-rate\" : 0.002"), rendered);
    }
}
