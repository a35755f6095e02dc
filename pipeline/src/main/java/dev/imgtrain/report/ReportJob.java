package dev.imgtrain.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.imgtrain.datasets.DatasetManifest;
import dev.imgtrain.train.EvaluationResult;
import dev.imgtrain.model.NetworkSummary;
import dev.imgtrain.preprocess.DatasetReader;
import dev.imgtrain.model.ModelStore;
import dev.imgtrain.store.RunCatalog;
import dev.imgtrain.store.Scratch;
import dev.imgtrain.store.Warehouse;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;

/**
 * Report: a committed, evaluated run → {@code runs/<run-id>/report/} ({@code index.html} and its PNGs), written to
 * scratch and committed as one directory through the warehouse's FileSystem (file:, hdfs:, s3a:). The page reads
 * nothing from the network. It needs the run's files, the dataset's raw table (the image grids: no archive needed)
 * and its features table (one distributed pass over the test split picks the predictions shown).
 */
public final class ReportJob {
    private static final Logger LOG = LoggerFactory.getLogger(ReportJob.class);
    static final int TRAIN_GRID = 64;
    static final int TEST_GRID = 36;
    static final int MISTAKES = 16;

    private ReportJob() {
    }

    /** Where a report went: {@code index} is the page's URI. */
    public record ReportResult(String runId, String index, int images) {
    }

    public static Path reportDir(Warehouse warehouse, String runId) {
        return new Path(warehouse.runDir(runId), "report");
    }

    public static ReportResult run(SparkSession spark, Warehouse warehouse, String runId, int batchSize) {
        long start = System.nanoTime();
        ObjectNode details = new RunCatalog(warehouse).details(runId); // refuses a missing or uncommitted run
        Path runDir = warehouse.runDir(runId);
        Path evaluationFile = new Path(runDir, "evaluation.json");
        if (details.get("evaluation") == null || details.get("evaluation").isNull()) {
            throw new IllegalStateException("run '" + runId + "' is not evaluated (no " + evaluationFile
                    + "): run `imgtrain evaluate --run " + runId + "` first");
        }
        EvaluationResult evaluation = warehouse.readJson(evaluationFile, EvaluationResult.class);
        JsonNode params = details.get("params");
        String dataset = params.path("dataset").asText();
        DatasetManifest manifest = DatasetReader.featuresManifest(warehouse, dataset);
        MultiLayerNetwork network = ModelStore.load(warehouse, new Path(runDir, "model.zip"));
        spark.sparkContext().setJobDescription("report " + runId + ": test predictions and image grids");
        try {
            Map<String, byte[]> files = new LinkedHashMap<>();
            RunReportView view = build(spark, warehouse, runId, details, evaluation, manifest, network, batchSize, files);
            files.put("index.html", ReportPage.render("run-report.mustache", view));
            try (Scratch.Dir scratch = Scratch.open(warehouse, "report-" + runId)) {
                for (Map.Entry<String, byte[]> f : files.entrySet()) {
                    warehouse.writeAtomically(new Path(scratch.path(), f.getKey()), f.getValue());
                }
                warehouse.commitDirectory(scratch.path(), reportDir(warehouse, runId));
            }
            Path index = new Path(reportDir(warehouse, runId), "index.html");
            LOG.info("report {}: {} files committed to {} in {} s", runId, files.size(), reportDir(warehouse, runId),
                    String.format("%.1f", (System.nanoTime() - start) / 1e9));
            return new ReportResult(runId, index.toString(), files.size() - 1);
        } finally {
            spark.sparkContext().setJobDescription(null);
        }
    }

    private static RunReportView build(SparkSession spark, Warehouse warehouse, String runId, ObjectNode details,
                                       EvaluationResult evaluation, DatasetManifest manifest, MultiLayerNetwork network,
                                       int batchSize, Map<String, byte[]> files) {
        JsonNode params = details.get("params");
        String dataset = manifest.name();
        List<String> classes = manifest.classes();
        int height = manifest.shape().get(0);
        int width = manifest.shape().get(1);
        int channels = manifest.shape().get(2);

        History history = History.of(details.get("metrics"));
        files.put("accuracy.png", Charts.epochCurves("Accuracy", "accuracy", history.epochs(), List.of(
                new Charts.Curve("train accuracy", history.accuracy()), new Charts.Curve("val accuracy", history.valAccuracy()))));
        files.put("loss.png", Charts.epochCurves("Loss", "loss", history.epochs(), List.of(
                new Charts.Curve("train loss", history.loss()), new Charts.Curve("val loss", history.valLoss()))));
        files.put("confusion.png", Charts.confusionHeatMap(evaluation.classes(), evaluation.confusionMatrix()));

        Dataset<Row> raw = spark.read().parquet(warehouse.rawDir(dataset).toString());
        List<ImageGrid.Tile> trainTiles = new ArrayList<>();
        for (Row r : raw.where(col("split").equalTo("train")).orderBy("id").limit(TRAIN_GRID)
                .select("label", "image").collectAsList()) {
            trainTiles.add(new ImageGrid.Tile((byte[]) r.get(1), classes.get(r.getInt(0)), null, false));
        }
        files.put("train-images.png", ImageGrid.png(trainTiles, height, width, channels, 8));

        Dataset<Row> test = spark.read().parquet(warehouse.featuresDir(dataset).toString()).where(col("split").equalTo("test"));
        TestPredictions.Picked picked = TestPredictions.pick(test, network, TEST_GRID, MISTAKES, batchSize);
        List<Object> ids = new ArrayList<>();
        picked.first().forEach(p -> ids.add(p.id()));
        picked.mistakes().forEach(p -> ids.add(p.id()));
        Map<Long, byte[]> images = new HashMap<>();
        for (Row r : raw.where(col("split").equalTo("test").and(col("id").isin(ids.toArray()))).select("id", "image")
                .collectAsList()) {
            images.put(r.getLong(0), (byte[]) r.get(1));
        }
        List<ImageGrid.Tile> testTiles = new ArrayList<>();
        for (TestPredictions.Prediction p : picked.first()) {
            testTiles.add(new ImageGrid.Tile(image(images, p, runId), (p.wrong() ? "✗ " : "") + classes.get(p.predicted()),
                    p.wrong() ? "true: " + classes.get(p.label()) : null, p.wrong()));
        }
        files.put("test-predictions.png", ImageGrid.png(testTiles, height, width, channels, 6));
        String mistakesGrid = null;
        if (!picked.mistakes().isEmpty()) {
            List<ImageGrid.Tile> mistakeTiles = new ArrayList<>();
            for (TestPredictions.Prediction p : picked.mistakes()) {
                mistakeTiles.add(new ImageGrid.Tile(image(images, p, runId),
                        classes.get(p.predicted()) + String.format(" %.2f", p.confidence()),
                        "true: " + classes.get(p.label()), true));
            }
            files.put("mistakes.png", ImageGrid.png(mistakeTiles, height, width, channels, 4));
            mistakesGrid = "mistakes.png";
        }

        NetworkSummary summary = NetworkSummary.of(network);
        List<RunReportView.NetworkSummaryRow> layers = new ArrayList<>();
        for (NetworkSummary.Row r : summary.layers()) {
            layers.add(new RunReportView.NetworkSummaryRow(r.name() + " (" + r.type() + ")", r.outputShape(),
                    r.activation(), String.format("%,d", r.params())));
        }
        List<RunReportView.ClassRow> perClass = new ArrayList<>();
        for (EvaluationResult.PerClass c : evaluation.perClass()) {
            perClass.add(new RunReportView.ClassRow(c.className(), f3(c.precision()), f3(c.recall()), f3(c.f1()), c.support()));
        }
        List<RunReportView.SourceRow> sources = new ArrayList<>();
        for (DatasetManifest.SourceFile s : manifest.sources()) {
            sources.add(new RunReportView.SourceRow(s.file(), s.bytes(), s.sha256()));
        }
        List<RunReportView.KeyValue> versions = new ArrayList<>();
        params.path("versions").fields().forEachRemaining(e -> versions.add(new RunReportView.KeyValue(e.getKey(), e.getValue().asText())));
        versions.add(new RunReportView.KeyValue("spark master", params.path("spark_master").asText()));
        versions.add(new RunReportView.KeyValue("spark application", params.path("spark_app_id").asText()));
        List<RunReportView.KeyValue> parameters = new ArrayList<>();
        params.path("training").fields().forEachRemaining(e -> parameters.add(
                new RunReportView.KeyValue("training (used): " + e.getKey(), e.getValue().asText())));
        flatten("", params.path("config"), parameters);

        return new RunReportView(runId, dataset, params.path("preset").asText(), params.path("created_at").asText(),
                String.format("%.4f", evaluation.accuracy()), String.format("%.4f", evaluation.loss()),
                evaluation.examples(), evaluation.split(), history.epochs().length,
                duration(details.path("train_seconds").asDouble(Double.NaN)), String.format("%,.0f", history.meanExamplesPerSecond()),
                history.rows(), history.hasLr(), history.end(), "accuracy.png", "loss.png", "train-images.png", "test-predictions.png", mistakesGrid,
                "confusion.png", perClass, layers, String.format("%,d", summary.totalParams()), summary.text(),
                parameters, sources, versions, Instant.now().toString());
    }

    private static byte[] image(Map<Long, byte[]> images, TestPredictions.Prediction p, String runId) {
        byte[] image = images.get(p.id());
        if (image == null) {
            throw new IllegalStateException("report " + runId + ": test example " + p.id()
                    + " is in the features table but not in the raw table: re-run ingest and preprocess");
        }
        return image;
    }

    /** {@code node}'s leaves as dotted keys (the run's effective configuration, as in params.json). */
    private static void flatten(String prefix, JsonNode node, List<RunReportView.KeyValue> into) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), into));
        } else if (!node.isMissingNode()) {
            into.add(new RunReportView.KeyValue(prefix, node.isTextual() ? node.asText() : node.toString()));
        }
    }

    static String duration(double seconds) {
        if (Double.isNaN(seconds)) {
            return "unknown";
        }
        long s = Math.round(seconds);
        return s >= 60 ? String.format("%d min %02d s", s / 60, s % 60) : s + " s";
    }

    private static String f3(double v) {
        return String.format("%.3f", v);
    }
}
