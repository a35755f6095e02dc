package dev.imgtrain.store;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** Versions and git commit recorded at build time (imgtrain/build.properties, imgtrain/git.properties). */
public final class BuildInfo {
    private BuildInfo() {
    }

    public static Map<String, String> versions() {
        Properties build = load("imgtrain/build.properties");
        Properties git = load("imgtrain/git.properties");
        Map<String, String> out = new LinkedHashMap<>();
        out.put("imgtrain", build.getProperty("imgtrain.version", "unknown"));
        out.put("git_commit", git.getProperty("git.commit.id", "unknown")
                + ("true".equals(git.getProperty("git.dirty")) ? "-dirty" : ""));
        out.put("spark_built_against", build.getProperty("spark.version", "unknown"));
        out.put("dl4j", build.getProperty("dl4j.version", "unknown"));
        out.put("dl4j_spark", build.getProperty("dl4j.spark.version", "unknown"));
        out.put("nd4j_backend", build.getProperty("nd4j.backend", "unknown"));
        out.put("java", System.getProperty("java.version"));
        return out;
    }

    private static Properties load(String resource) {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getClassLoader().getResourceAsStream(resource)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // a missing build file only loses provenance, never a run
        }
        return p;
    }
}
