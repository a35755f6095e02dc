package dev.imgtrain.jobs;

import dev.imgtrain.store.BuildInfo;
import picocli.CommandLine;

import java.util.Map;

/** {@code imgtrain --version}: imgtrain, git commit and the library versions it was built with. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return BuildInfo.versions().entrySet().stream().map(Map.Entry::toString).toArray(String[]::new);
    }
}
