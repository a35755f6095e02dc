package dev.imgtrain.bench;

import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.model.Nd4jBackend;
import dev.imgtrain.store.BuildInfo;
import org.apache.spark.sql.SparkSession;

import java.io.File;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** bench.json's figures: the ratios the issues set goals for, the medians, the raw values and the machine. */
final class BenchReport {
    /** The ratios printed after the medians, in this order. */
    static final List<String> PRINTED = List.of("spark_vs_pytorch_epoch_ratio", "time_to_98_vs_pytorch_ratio",
            "cifar_spark_vs_pytorch_epoch_ratio", "stream_vs_cached_per_example_ratio", "spark_vs_local_epoch_ratio",
            "local_epoch_vs_floor_ratio", "gemm_epoch_vs_floor_ratio", "local_epoch_vs_gemm_ratio",
            "step_fused_vs_products_ratio", "step_gemm_vs_fused_ratio", "step_dl4j_vs_fused_ratio",
            "time_to_98_vs_local_ratio", "mllib_accuracy_at_equal_time", "ingest_vs_gunzip_ratio_mnist",
            "ingest_vs_gunzip_ratio_cifar10");

    private BenchReport() {
    }

    static Map<String, Object> build(Figures f, PipelineConfig base, SparkSession spark, List<PyTorchPeer.Split> splits,
                                     Map<String, Object> mllib) {
        Map<String, Object> report = new LinkedHashMap<>();
        String best = bestSplit(f, splits, "pytorch_");
        String bestCifar = bestSplit(f, splits, "cifar_pytorch_");
        report.put("spark_vs_pytorch_epoch_ratio", best == null ? null
                : f.ratio("spark_epoch_seconds", "pytorch_" + best + "_epoch_seconds"));
        report.put("time_to_98_vs_pytorch_ratio", best == null ? null
                : f.ratio("spark_seconds_to_target", "pytorch_" + best + "_seconds_to_target"));
        report.put("cifar_spark_vs_pytorch_epoch_ratio", bestCifar == null ? null
                : f.ratio("cifar_spark_epoch_seconds", "cifar_pytorch_" + bestCifar + "_epoch_seconds"));
        report.put("pytorch_best_split", best);
        report.put("stream_vs_cached_per_example_ratio", f.ratio("stream_seconds_per_example", "cached_seconds_per_example"));
        report.put("driver_max_heap_mib", Runtime.getRuntime().maxMemory() / (1024.0 * 1024.0));
        report.put("spark_vs_local_epoch_ratio", f.ratio("spark_epoch_seconds", "local_epoch_seconds"));
        report.put("local_epoch_vs_floor_ratio", f.ratio("local_epoch_seconds", "floor_epoch_seconds"));
        // Where plain DL4J's epoch goes: its matrix products at their real shapes, against the floor and the epoch.
        report.put("gemm_epoch_vs_floor_ratio", f.ratio("gemm_epoch_seconds", "floor_epoch_seconds"));
        report.put("local_epoch_vs_gemm_ratio", f.ratio("local_epoch_seconds", "gemm_epoch_seconds"));
        report.put("step_fused_vs_products_ratio", f.ratio("step_fused_seconds", "step_products_seconds"));
        report.put("step_gemm_vs_fused_ratio", f.ratio("step_gemm_seconds", "step_fused_seconds"));
        report.put("step_dl4j_vs_fused_ratio", f.ratio("step_dl4j_seconds", "step_fused_seconds"));
        report.put("time_to_98_vs_local_ratio", f.ratio("spark_seconds_to_target", "local_seconds_to_target"));
        report.put("mllib_accuracy_at_equal_time", mllib == null ? null : mllib.get("test_accuracy"));
        report.put("ingest_vs_gunzip_ratio_mnist", f.ratio("ingest_mnist_seconds", "gunzip_mnist_seconds"));
        report.put("ingest_vs_gunzip_ratio_cifar10", f.ratio("ingest_cifar10_seconds", "gunzip_cifar10_seconds"));
        report.put("medians", f.medians());
        report.put("raw", f.raw());
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("cpu", cpuModel());
        machine.put("host", hostName());
        machine.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        machine.put("nd4j", Nd4jBackend.describe());
        machine.put("spark_master", spark.sparkContext().master());
        report.put("machine", machine);
        report.put("versions", BuildInfo.versions());
        report.put("measured_at", java.time.Instant.now().toString());
        report.put("preset", base.train().preset());
        report.put("workers", base.train().workers());
        return report;
    }

    static void print(Figures f, Map<String, Object> report, int repeats, File out) {
        System.out.printf("%-34s %10s%n", "measurement (median of " + repeats + ")", "value");
        f.medians().forEach((k, v) -> System.out.printf("%-34s %10.3f%n", k, (Double) v));
        for (String k : PRINTED) {
            Object v = report.get(k);
            System.out.printf("%-34s %10s%n", k, v == null ? "-" : String.format("%.3f", (Double) v));
        }
        System.out.println("figures in " + out);
    }

    /** The split (label) with the lower median warm epoch under {@code prefix}, or null when the peer did not run. */
    static String bestSplit(Figures f, List<PyTorchPeer.Split> splits, String prefix) {
        String best = null;
        double bestSeconds = Double.POSITIVE_INFINITY;
        for (PyTorchPeer.Split s : splits) {
            String key = prefix + s.label() + "_epoch_seconds";
            if (f.has(key) && f.median(key) < bestSeconds) {
                bestSeconds = f.median(key);
                best = s.label();
            }
        }
        return best;
    }

    /** The CPU model line of /proc/cpuinfo, or "unknown". */
    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }
}
