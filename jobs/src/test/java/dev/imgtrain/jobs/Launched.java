package dev.imgtrain.jobs;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** bin/imgtrain as a user runs it: its own JVM (local[2], 2 GB), the environment given over the test's, output merged. */
record Launched(int code, String output) {
    static Process start(List<String> args, Map<String, String> env) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(S3Server.ROOT.resolve("bin/imgtrain").toString());
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("IMGTRAIN_DRIVER_MEMORY", "2g");
        pb.environment().put("IMGTRAIN_MASTER", "local[2]");
        return pb.start();
    }

    static Launched run(List<String> args, Map<String, String> env) throws Exception {
        return finish(start(args, env), 300, args);
    }

    /** Any command (a deploy script), the environment given over the test's, output merged. */
    static Launched command(List<String> command, Map<String, String> env, long timeoutSeconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        return finish(pb.start(), timeoutSeconds, command);
    }

    private static Launched finish(Process p, long timeoutSeconds, List<String> command) throws Exception {
        long started = System.nanoTime();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "timed out: " + command);
        // Into the test's report (target/failsafe-reports/*-output.txt): where an integration test's minutes go.
        String shown = String.join(" ", command.subList(0, Math.min(command.size(), 6)))
                .replace(S3Server.ROOT.toString() + "/", "");
        System.out.printf("launched: %s%s: exit %d in %.1f s%n", shown, command.size() > 6 ? " ..." : "", p.exitValue(),
                (System.nanoTime() - started) / 1e9);
        return new Launched(p.exitValue(), output);
    }

    String lastLine() {
        List<String> lines = output.lines().toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }
}
