package dev.imgtrain.store;

import org.apache.hadoop.fs.FsStatus;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.Locale;

/**
 * Space on the warehouse's file system: each writing stage says what it is about to write and about how much
 * ({@link #require}); when the file system reports less free space (local disks and HDFS do, S3 does not) the stage is
 * refused before it writes anything, and when a write still runs out of space (on the driver, or in an executor task)
 * the command's one line says where, what and how much ({@link #describe}), not Spark's words.
 */
public final class DiskSpace {
    /** What the current stage writes: where, what, and the bytes it was estimated to need. */
    public record Writing(Path target, String what, long bytes) {
    }

    /** Thrown when the file system reports less free space than a stage needs. */
    public static final class NoSpaceException extends RuntimeException {
        public NoSpaceException(String message) {
            super(message);
        }
    }

    private static volatile Writing current;

    private DiskSpace() {
    }

    /** Forgets the last stage's write (a command starts). */
    public static void reset() {
        current = null;
    }

    /**
     * Records that the stage now writes {@code what} (about {@code bytes}) under {@code target}, and refuses it when the
     * file system holding {@code target} reports less free space than that.
     */
    public static void require(Warehouse warehouse, Path target, String what, long bytes) {
        current = new Writing(target, what, bytes);
        long free = free(warehouse, target);
        if (free >= 0 && free < bytes) {
            throw new NoSpaceException(line(current) + " (the file system reports " + mb(free) + " MB free)");
        }
    }

    /** Free bytes of the file system holding {@code path}, or -1 when it does not say (S3A). */
    public static long free(Warehouse warehouse, Path path) {
        String scheme = warehouse.fs().getScheme();
        if (scheme.startsWith("s3") || scheme.equals("gs") || scheme.startsWith("abfs") || scheme.startsWith("wasb")) {
            return -1; // object stores report no free space (and asking costs round trips)
        }
        try {
            Path existing = path;
            while (existing != null && !warehouse.fs().exists(existing)) {
                existing = existing.getParent();
            }
            Path at = existing == null ? warehouse.root() : existing;
            if ("file".equals(warehouse.fs().getScheme())) {
                // What this user can write: Hadoop's local status counts the blocks reserved for root as free.
                return new java.io.File(at.toUri().getPath()).getUsableSpace();
            }
            FsStatus status = warehouse.fs().getStatus(at);
            long remaining = status.getRemaining();
            return remaining <= 0 && status.getCapacity() <= 0 || remaining == Long.MAX_VALUE ? -1 : remaining;
        } catch (FileNotFoundException | UnsupportedOperationException e) {
            return -1;
        } catch (IOException e) {
            return -1; // a store that cannot say: the write itself will tell
        }
    }

    /** Whether {@code t} or one of its causes is a file system that ran out of space or quota (also inside Spark's text). */
    public static boolean isNoSpace(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String name = c.getClass().getSimpleName();
            String message = String.valueOf(c.getMessage());
            if (name.equals("DSQuotaExceededException") || name.equals("NSQuotaExceededException")
                    || name.equals("DiskOutOfSpaceException") || c instanceof NoSpaceException
                    || message.contains("No space left on device") || message.contains("Disk quota exceeded")
                    || message.contains("DSQuotaExceededException") || message.contains("DiskOutOfSpaceException")
                    || message.contains("The DiskSpace quota of ")) {
                return true;
            }
        }
        return false;
    }

    /** The failure's one line (without the command's name): what the current stage was writing where. */
    public static String describe(Throwable t, String warehouse) {
        Writing w = current;
        if (t instanceof NoSpaceException) {
            return t.getMessage();
        }
        String quota = quota(t);
        if (quota != null) {
            return quota + (w != null ? " while writing " + w.what() + " to " + w.target() : "") + "; nothing was committed; "
                    + "raise the quota (hdfs dfsadmin -setSpaceQuota) or choose another --warehouse, then run the same "
                    + "command again";
        }
        return w != null ? line(w) : "no space left on the file system of " + warehouse + "; nothing was committed; free "
                + "space or choose another --warehouse, then run the same command again";
    }

    private static final java.util.regex.Pattern QUOTA = java.util.regex.Pattern.compile(
            "The DiskSpace quota of (\\S+) is exceeded: quota = \\d+ B = ([0-9.]+ [KMGTP]?B) but diskspace consumed = \\d+ B = "
                    + "([0-9.]+ [KMGTP]?B)");

    /**
     * HDFS's space quota in words, from its DSQuotaExceededException anywhere in the causes (or Spark's text of one);
     * null when it is not one. HDFS counts a whole block (128 MB by default) times the replication for a file being
     * written, so a quota below that refuses any file.
     */
    static String quota(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            java.util.regex.Matcher m = QUOTA.matcher(String.valueOf(c.getMessage()));
            if (m.find()) {
                return "the HDFS space quota of " + m.group(1) + " is exceeded (quota " + m.group(2) + ", the writes need "
                        + m.group(3) + ": HDFS counts a whole block per file being written)";
            }
        }
        return null;
    }

    static String line(Writing w) {
        return "no space left on the file system of " + w.target() + " while writing " + w.what() + " (" + mb(w.bytes())
                + " MB needed by this stage, estimated); nothing was committed; free space or choose another --warehouse,"
                + " then run the same command again";
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%,d", Math.max(1, (bytes + (1 << 20) - 1) >> 20));
    }
}
