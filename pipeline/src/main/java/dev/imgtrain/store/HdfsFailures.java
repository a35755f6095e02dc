package dev.imgtrain.store;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HDFS failures a lost DataNode causes, in one line: a block no live DataNode holds (the HDFS client's
 * {@code BlockMissingException}, in the driver or inside Spark's task failure text) and a block no DataNode would
 * take ({@code could only be written to 0 of the 1 minReplication nodes}). Found by killing the only DataNode of
 * deploy/local/hadoop.sh during training: without this the user read two paragraphs of Spark's and HDFS's text.
 */
public final class HdfsFailures {
    private static final Pattern MISSING = Pattern.compile("Could not obtain block: \\S+ file=(\\S+)");
    private static final Pattern DEAD = Pattern.compile("Dead nodes:\\s+DatanodeInfoWithStorage\\[([^,\\]]+)");
    private static final Pattern UNWRITABLE = Pattern.compile("File (\\S+) could only be written to 0 of the \\d+ "
            + "minReplication nodes\\. There are (\\d+) datanode\\(s\\) running and (\\d+) node\\(s\\) are excluded");
    private static final String AGAIN = "; nothing was committed; once HDFS has its DataNodes back (hdfs dfsadmin -report "
            + "lists them; deploy/local/hadoop.sh start restarts a loopback one), run the same command again";

    private HdfsFailures() {
    }

    /** The line for {@code t} when it (or a cause, or Spark's text of a task's failure) is one of these. */
    public static Optional<String> describe(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String message = String.valueOf(c.getMessage());
            Matcher missing = MISSING.matcher(message);
            if (missing.find()) {
                Matcher dead = DEAD.matcher(message);
                return Optional.of("HDFS cannot read " + missing.group(1) + ": no live DataNode holds its block ("
                        + (dead.find() ? "the DataNode at " + dead.group(1) + " is down or unreachable"
                        : "its DataNodes are down or unreachable") + ")" + AGAIN);
            }
            Matcher unwritable = UNWRITABLE.matcher(message);
            if (unwritable.find()) {
                return Optional.of("HDFS cannot write " + unwritable.group(1) + ": no DataNode took its block ("
                        + unwritable.group(2) + " DataNode(s) known to the NameNode, " + unwritable.group(3)
                        + " excluded as unreachable)" + AGAIN);
            }
        }
        return Optional.empty();
    }
}
