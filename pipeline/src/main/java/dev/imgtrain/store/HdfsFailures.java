package dev.imgtrain.store;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HDFS failures a lost DataNode causes, in one line: a block no live DataNode holds (the HDFS client's
 * {@code BlockMissingException}, in the driver or inside Spark's task failure text) and a block no DataNode would
 * take ({@code could only be written to 0 of the 1 minReplication nodes}), and the NameNode gone (an RPC to the
 * warehouse's {@code hdfs://host:port} refused or reset). Found by killing deploy/local/hadoop.sh's daemons during
 * training: without this the user read two paragraphs of Spark's and HDFS's text.
 */
public final class HdfsFailures {
    private static final Pattern MISSING = Pattern.compile("Could not obtain block: \\S+ file=(\\S+)");
    private static final Pattern DEAD = Pattern.compile("Dead nodes:\\s+DatanodeInfoWithStorage\\[([^,\\]]+)");
    private static final Pattern UNWRITABLE = Pattern.compile("File (\\S+) could only be written to 0 of the \\d+ "
            + "minReplication nodes\\. There are (\\d+) datanode\\(s\\) running and (\\d+) node\\(s\\) are excluded");
    /** Hadoop's NetUtils.wrapException texts: "Call From A to H:P failed on ... exception" and "... destination host". */
    private static final Pattern CALL = Pattern.compile("Call From \\S+ to ([^\\s:]+):(\\d+) failed on [\\w ]+ "
            + "exception: java\\.net\\.\\w+: ([^;]+)");
    private static final Pattern ENDED = Pattern.compile("destination host is: \"([^\"]+)\":(\\d+); : java\\.io\\.(\\w+)");
    private static final String AGAIN = "; nothing was committed; once HDFS has its DataNodes back (hdfs dfsadmin -report "
            + "lists them; deploy/local/hadoop.sh start restarts a loopback one), run the same command again";

    private HdfsFailures() {
    }

    /** The line for {@code t} when it (or a cause, or Spark's text of a task's failure) is one of these. */
    public static Optional<String> describe(Throwable t) {
        StringBuilder all = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            all.append(c.getMessage()).append('\n');
        }
        Matcher call = CALL.matcher(all);
        Matcher ended = ENDED.matcher(all);
        String host = null;
        String port = null;
        String why = null;
        if (call.find()) {
            host = call.group(1);
            port = call.group(2);
            why = call.group(3).strip().toLowerCase(java.util.Locale.ROOT);
        } else if (ended.find()) {
            host = ended.group(1);
            port = ended.group(2);
            why = "the connection ended: " + ended.group(3);
        }
        if (port != null && Pattern.compile("hdfs://[^/\\s:]+:" + port + "\\b").matcher(all).find()) {
            return Optional.of("the HDFS NameNode at " + host + ":" + port + " is unreachable (" + why + "); nothing was "
                    + "committed; once it is back (hdfs dfsadmin -report; deploy/local/hadoop.sh start restarts a loopback "
                    + "one), run the same command again");
        }
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
