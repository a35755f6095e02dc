package dev.imgtrain.jobs;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README and docs/ stay true: every relative link (and #anchor) resolves, every {@code imgtrain COMMAND} they show
 * is a command of the CLI (a subcommand where it has some) and every {@code --flag} shown after it is one of that
 * command's options; the README stays short, with the two set-up commands near the top.
 */
class DocsTest {
    private static final Path ROOT = Path.of(System.getProperty("imgtrain.launcher")).getParent().getParent();
    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)\\)");
    private static final Pattern COMMAND = Pattern.compile("(?<![\\w/.-])(?:bin/)?imgtrain ([a-z]+)((?: [^`|\\n]*)?)");

    static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("deploy/README.md"),
                ROOT.resolve("notebooks/README.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    /** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
    static String anchor(String heading) {
        return heading.trim().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
    }

    static Set<String> anchors(Path page) throws IOException {
        Set<String> anchors = new LinkedHashSet<>();
        for (String line : Files.readAllLines(page)) {
            if (line.startsWith("#")) {
                anchors.add(anchor(line.replaceFirst("^#+", "")));
            }
        }
        return anchors;
    }

    @Test
    void anchorsAreGitHubs() {
        assertEquals("faults-what-happens-and-what-you-see", anchor(" Faults: what happens and what you see"));
        assertEquals("object-storage-s3a", anchor("Object storage (S3A)"));
    }

    @Test
    void everyRelativeLinkResolves() throws IOException {
        int links = 0;
        List<String> broken = new ArrayList<>();
        for (Path page : pages()) {
            Matcher m = LINK.matcher(Files.readString(page));
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("^[a-z]+:.*")) {
                    continue; // http(s), mailto: not checked offline
                }
                links++;
                String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
                Path resolved = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
                if (!Files.exists(resolved)) {
                    broken.add(ROOT.relativize(page) + ": " + target + " (no " + ROOT.relativize(resolved) + ")");
                } else if (target.contains("#") && resolved.toString().endsWith(".md")
                        && !anchors(resolved).contains(target.substring(target.indexOf('#') + 1))) {
                    broken.add(ROOT.relativize(page) + ": " + target + " (no such heading in " + ROOT.relativize(resolved) + ")");
                }
            }
        }
        assertTrue(broken.isEmpty(), "broken links: " + broken);
        assertTrue(links >= 10, "the README and docs link to each other: found " + links + " relative links");
    }

    @Test
    void everyCommandShownExistsWithItsFlags() throws IOException {
        CommandLine cli = ImgtrainCommand.commandLine();
        List<String> wrong = new ArrayList<>();
        int shown = 0;
        for (Path page : pages()) {
            for (String line : code(Files.readAllLines(page))) {
                Matcher m = COMMAND.matcher(line);
                while (m.find()) {
                    String name = m.group(1);
                    String rest = m.group(2);
                    if (rest.startsWith(":") || line.contains("imgtrain " + name + ":")) {
                        continue; // an error message quoted, not a command line
                    }
                    shown++;
                    CommandLine command = cli.getSubcommands().get(name);
                    if (command == null) {
                        wrong.add(ROOT.relativize(page) + ": imgtrain " + name + " is not a command");
                        continue;
                    }
                    String[] words = rest.trim().split("\\s+");
                    if (!command.getSubcommands().isEmpty() && words.length > 0 && words[0].matches("[a-z]+")
                            && command.getSubcommands().containsKey(words[0])) {
                        command = command.getSubcommands().get(words[0]);
                    }
                    CommandSpec spec = command.getCommandSpec();
                    for (String w : words) {
                        String flag = w.replaceAll("[\\[\\](),;`]", "").replaceAll("=.*", "");
                        if (flag.startsWith("--") && flag.length() > 2 && spec.findOption(flag) == null) {
                            wrong.add(ROOT.relativize(page) + ": " + spec.qualifiedName() + " has no option " + flag
                                    + " (" + line.trim() + ")");
                        }
                    }
                }
            }
        }
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
        assertTrue(shown >= 20, "the README and docs show the commands: found " + shown);
    }

    /** The code in a page: indented code lines, fenced blocks and `inline` spans (prose may say "imgtrain X"). */
    static List<String> code(List<String> lines) {
        List<String> code = new ArrayList<>();
        boolean fenced = false;
        for (String line : lines) {
            if (line.startsWith("```")) {
                fenced = !fenced;
            } else if (fenced || line.startsWith("    ")) {
                code.add(line.trim());
            } else {
                Matcher span = Pattern.compile("`([^`]+)`").matcher(line);
                while (span.find()) {
                    code.add(span.group(1));
                }
            }
        }
        return code;
    }

    @Test
    void codeIsTakenFromBlocksAndSpans() {
        assertEquals(List.of("bin/imgtrain run", "imgtrain x --y", "a"),
                code(List.of("    bin/imgtrain run", "the imgtrain arguments of `imgtrain x --y` and `a`", "```", "```")));
    }

    @Test
    void readmeIsShortWithTheTwoSetUpCommandsFirst() throws IOException {
        List<String> readme = Files.readAllLines(ROOT.resolve("README.md"));
        assertTrue(readme.size() <= 150, "README.md has " + readme.size() + " lines");
        List<String> top = readme.subList(0, 40);
        assertTrue(top.stream().anyMatch(l -> l.trim().equals("deploy/local/quickstart.sh")), "quick start in the first 40 lines");
        assertTrue(top.stream().anyMatch(l -> l.trim().equals("deploy/local/test.sh")), "test command in the first 40 lines");
        for (String page : List.of("architecture.md", "training.md", "operations.md", "performance.md")) {
            assertTrue(Files.exists(ROOT.resolve("docs").resolve(page)), "docs/" + page);
        }
    }
}
