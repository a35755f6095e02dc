package dev.imgtrain.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.imgtrain.store.Warehouse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The framework users would pick instead: a plain PyTorch script ({@code pytorch_peer.py}, shipped in this jar) with
 * the preset's network, updater, batch size and seed on the same archives, run by Debian's {@code python3-torch}.
 * Each run is its own process, so the bench can alternate it with imgtrain's epochs on the same machine mode.
 */
public final class PyTorchPeer {
    private static final Logger LOG = LoggerFactory.getLogger(PyTorchPeer.class);
    private static final String SCRIPT = "dev/imgtrain/bench/pytorch_peer.py";

    private final String python;
    private final Path script;

    private PyTorchPeer(String python, Path script) {
        this.python = python;
        this.script = script;
    }

    /** A thread split: torch's intra-op threads and OpenBLAS's threads. */
    public record Split(int intraThreads, int blasThreads) {
        public String label() {
            return "intra" + intraThreads + "_blas" + blasThreads;
        }
    }

    /** One peer run: per-epoch training seconds and test accuracy, seconds to the target, the sgemm rate. */
    public record Run(Split split, List<Double> epochSeconds, List<Double> testAccuracy, Double secondsToTarget,
                      Double matmulGflops, JsonNode json) {
        /** The warm epoch (the second; the first when only one ran). */
        public double warmEpochSeconds() {
            return epochSeconds.get(Math.min(1, epochSeconds.size() - 1));
        }

        /** The first epoch (from 1) whose test accuracy reached {@code target}; -1 when none did. */
        public int epochsToTarget(double target) {
            for (int e = 0; e < testAccuracy.size(); e++) {
                if (testAccuracy.get(e) >= target) {
                    return e + 1;
                }
            }
            return -1;
        }
    }

    /**
     * The peer when {@code python} can import torch; otherwise empty, with the reason logged (the bench goes on
     * without the PyTorch figures).
     */
    public static Optional<PyTorchPeer> find(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import torch, numpy; print(torch.__version__)")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                LOG.warn("bench: no PyTorch peer: {} cannot import torch ({}); install python3-torch and "
                        + "libopenblas0-pthread (deploy/local/bench.sh does)", python, lastLine(out));
                return Optional.empty();
            }
            Path script = Files.createTempFile("imgtrain-pytorch-peer", ".py");
            script.toFile().deleteOnExit();
            try (InputStream in = PyTorchPeer.class.getClassLoader().getResourceAsStream(SCRIPT)) {
                Files.write(script, in.readAllBytes());
            }
            LOG.info("bench: PyTorch peer: torch {} under {}", lastLine(out), python);
            return Optional.of(new PyTorchPeer(python, script));
        } catch (IOException e) {
            LOG.warn("bench: no PyTorch peer: cannot run {}: {}", python, e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Trains {@code dataset} from {@code source} until {@code target} test accuracy or {@code maxEpochs}. */
    public Run run(String dataset, String source, int maxExamples, Split split, long seed, double target, int maxEpochs,
                   boolean matmul) {
        List<String> command = new ArrayList<>(List.of(python, script.toString(), "--dataset", dataset,
                "--source", source, "--max-examples", Integer.toString(maxExamples),
                "--max-epochs", Integer.toString(maxEpochs), "--target", Double.toString(target),
                "--seed", Long.toString(seed), "--intra-threads", Integer.toString(split.intraThreads())));
        if (matmul) {
            command.add("--matmul");
        }
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> env = pb.environment();
        env.put("OPENBLAS_NUM_THREADS", Integer.toString(split.blasThreads()));
        env.put("OMP_NUM_THREADS", Integer.toString(split.intraThreads()));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        try {
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(3600, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("PyTorch peer failed (exit " + p.exitValue() + "): " + lastLine(out));
            }
            JsonNode json = Warehouse.JSON.readTree(lastLine(out));
            List<Double> seconds = new ArrayList<>();
            List<Double> accuracy = new ArrayList<>();
            for (JsonNode e : json.get("epochs")) {
                seconds.add(e.get("seconds").asDouble());
                accuracy.add(e.get("test_accuracy").asDouble());
            }
            return new Run(split, seconds, accuracy, json.get("seconds_to_target").isNull() ? null
                    : json.get("seconds_to_target").asDouble(),
                    json.get("matmul_gflops").isNull() ? null : json.get("matmul_gflops").asDouble(), json);
        } catch (IOException e) {
            throw new UncheckedIOException("PyTorch peer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the PyTorch peer ran", e);
        }
    }

    private static String lastLine(String text) {
        List<String> lines = text.strip().lines().toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }
}
