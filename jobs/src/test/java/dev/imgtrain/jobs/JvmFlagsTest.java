package dev.imgtrain.jobs;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java 17 flags live in pom.xml (tests) and bin/imgtrain (launcher); this keeps the two lists equal. */
class JvmFlagsTest {
    @Test
    void launcherAndPomAgree() throws Exception {
        List<String> pom = Arrays.asList(System.getProperty("imgtrain.jvm.flags").trim().split("\\s+"));
        String launcher = Files.readString(Path.of(System.getProperty("imgtrain.launcher")));
        Matcher m = Pattern.compile("JAVA17_FLAGS=\\(\\n(.*?)\\n\\)", Pattern.DOTALL).matcher(launcher);
        assertTrue(m.find(), "bin/imgtrain defines JAVA17_FLAGS=( ... )");
        List<String> script = Arrays.asList(m.group(1).trim().split("\\s+"));
        assertEquals(pom, script);
        assertTrue(pom.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"));
    }
}
