package dev.imgtrain.jobs;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster recipes stay in sync with the CLI: the imgtrain arguments of every spark-submit example in the README
 * and docs/ and of the Kubernetes manifest are parsed by the real picocli parser and loaded as a configuration.
 */
class DeployRecipesTest {
    private static final Path ROOT = Path.of(System.getProperty("imgtrain.launcher")).getParent().getParent();

    private static void parsesAndLoads(String where, List<String> args) {
        CommandLine cl = ImgtrainCommand.commandLine();
        CommandLine.ParseResult parsed = cl.parseArgs(args.toArray(String[]::new));
        while (parsed.hasSubcommand()) {
            parsed = parsed.subcommand();
        }
        Object command = parsed.commandSpec().userObject();
        assertTrue(command instanceof ConfiguredCommand, where + ": " + args + " is not a pipeline command");
        ((ConfiguredCommand) command).config(); // throws on an unknown key or a bad value
    }

    /** Shell-like split of one example: quotes kept together, line continuations joined. */
    private static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        Matcher m = Pattern.compile("\"([^\"]*)\"|'([^']*)'|(\\S+)").matcher(line);
        while (m.find()) {
            words.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
        }
        return words;
    }

    @Test
    void docsSparkSubmitExamplesParse() throws Exception {
        StringBuilder docs = new StringBuilder(Files.readString(ROOT.resolve("README.md")));
        try (var pages = Files.list(ROOT.resolve("docs"))) {
            for (Path page : pages.filter(p -> p.toString().endsWith(".md")).sorted().toList()) {
                docs.append('\n').append(Files.readString(page));
            }
        }
        String readme = docs.toString().replace("\\\n", " ");
        int examples = 0;
        for (String line : readme.split("\n")) {
            String trimmed = line.trim();
            if (!trimmed.startsWith("spark-submit ")) {
                continue;
            }
            List<String> w = words(trimmed);
            int jar = -1;
            for (int i = 0; i < w.size(); i++) {
                if (w.get(i).endsWith("-spark.jar")) {
                    jar = i;
                }
            }
            assertTrue(jar > 0, "an example names the jar: " + trimmed);
            assertEquals("dev.imgtrain.jobs.Main", w.get(w.indexOf("--class") + 1), trimmed);
            parsesAndLoads("docs", w.subList(jar + 1, w.size()));
            examples++;
        }
        assertTrue(examples >= 3, "standalone, YARN and Kubernetes examples: found " + examples);
    }

    @Test
    void kubernetesManifestArgumentsParse() throws Exception {
        String yaml = Files.readString(ROOT.resolve("deploy/k8s/sparkapplication.yaml"));
        Matcher block = Pattern.compile("\n  arguments:\n((?:    - .*\n)+)").matcher(yaml);
        assertTrue(block.find(), "the manifest has spec.arguments");
        List<String> args = new ArrayList<>();
        for (String item : block.group(1).split("\n")) {
            args.add(item.trim().substring(2).replaceAll("^\"|\"$", ""));
        }
        assertEquals("run", args.get(0));
        parsesAndLoads("sparkapplication.yaml", args);
        assertTrue(yaml.contains("mainClass: dev.imgtrain.jobs.Main"));
        assertFalse(args.stream().anyMatch(a -> a.toLowerCase().matches(".*(secret|access.key).*")),
                "no credentials in the manifest's arguments: " + args);
    }

    @Test
    void aBrokenExampleWouldBeCaught() {
        assertThrowsAny(() -> parsesAndLoads("probe", Arrays.asList("run", "--epochz", "3")));
        assertThrowsAny(() -> parsesAndLoads("probe", Arrays.asList("run", "--set", "train.epoch=3")));
    }

    private static void assertThrowsAny(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException expected) {
            return;
        }
        throw new AssertionError("expected a parse or configuration error");
    }
}
