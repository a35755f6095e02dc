package dev.imgtrain.jobs;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java 17 flags live in pom.xml (tests) and bin/java17-flags.sh (launcher, deploy scripts); this keeps them equal,
 * and the cluster recipes carrying them and the script's collector ({@code GC_FLAGS}).
 */
class JvmFlagsTest {
    @Test
    void launcherAndPomAgree() throws Exception {
        List<String> pom = Arrays.asList(System.getProperty("imgtrain.jvm.flags").trim().split("\\s+"));
        String launcher = Files.readString(Path.of(System.getProperty("imgtrain.launcher")).resolveSibling("java17-flags.sh"));
        Matcher m = Pattern.compile("JAVA17_FLAGS=\\(\\n(.*?)\\n\\)", Pattern.DOTALL).matcher(launcher);
        assertTrue(m.find(), "bin/java17-flags.sh defines JAVA17_FLAGS=( ... )");
        List<String> script = Arrays.asList(m.group(1).trim().split("\\s+"));
        assertEquals(pom, script);
        assertTrue(pom.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"));
    }

    @Test
    void clusterRecipesCarryEveryFlagAndTheCollector() throws Exception {
        List<String> flags = new ArrayList<>(
                Arrays.asList(System.getProperty("imgtrain.jvm.flags").trim().split("\\s+")));
        Path root = Path.of(System.getProperty("imgtrain.launcher")).getParent().getParent();
        Matcher gc = Pattern.compile("(?m)^GC_FLAGS=\\((.*?)\\)")
                .matcher(Files.readString(root.resolve("bin/java17-flags.sh")));
        assertTrue(gc.find(), "bin/java17-flags.sh defines GC_FLAGS=( ... )");
        List<String> collector = Arrays.asList(gc.group(1).trim().split("\\s+"));
        assertEquals(List.of("-XX:+UseParallelGC"), collector);
        flags.addAll(collector);
        for (String file : List.of("conf/spark-yarn.conf", "deploy/k8s/sparkapplication.yaml")) {
            List<String> lines = Files.readAllLines(root.resolve(file)).stream()
                    .filter(l -> l.contains("extraJavaOptions") && !l.trim().startsWith("#")).toList();
            assertEquals(2, lines.size(), file + ": driver and executor extraJavaOptions");
            for (String line : lines) {
                List<String> words = Arrays.asList(line.replace("\"", " ").trim().split("\\s+"));
                for (String flag : flags) {
                    assertTrue(words.contains(flag), file + " lacks " + flag + " in: " + line);
                }
            }
        }
    }
}
