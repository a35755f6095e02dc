package dev.imgtrain.store;

import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsAction;
import org.apache.hadoop.fs.permission.FsPermission;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Hadoop's local file system (checksum files and all) that sets permissions with java.nio instead of a process.
 *
 * <p>Without Hadoop's native library (it is not on Maven Central, so neither bin/imgtrain nor the tests have it),
 * {@link RawLocalFileSystem} forks {@code chmod} for every file and directory it creates: an MNIST ingest forked 31
 * times, a preprocess 24 (strace), at about 4-6 ms each on these machines. Reading is unchanged. Installed as
 * {@code fs.file.impl} by {@code Stage.session} on local masters only: on a cluster the executors would have to load it
 * before the application jar is on their class path; there, pass {@code spark.hadoop.fs.file.impl} yourself together
 * with {@code spark.executor.extraClassPath} if a {@code file:} warehouse is used at all.
 */
public class NioLocalFileSystem extends LocalFileSystem {
    /** The Hadoop configuration key that selects the {@code file:} implementation. */
    public static final String KEY = "fs.file.impl";

    public NioLocalFileSystem() {
        super(new Raw());
    }

    /** The raw (checksum-less) half: {@link #setPermission} without forking. */
    public static class Raw extends RawLocalFileSystem {
        @Override
        public void setPermission(Path p, FsPermission permission) throws IOException {
            if (permission.getStickyBit()) {
                super.setPermission(p, permission);
                return;
            }
            Files.setPosixFilePermissions(pathToFile(p).toPath(), posix(permission));
        }
    }

    /** The POSIX permission set of Hadoop's user/group/other actions (the sticky bit is not representable). */
    static Set<PosixFilePermission> posix(FsPermission permission) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        add(set, permission.getUserAction(), PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_EXECUTE);
        add(set, permission.getGroupAction(), PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_EXECUTE);
        add(set, permission.getOtherAction(), PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_EXECUTE);
        return set;
    }

    private static void add(Set<PosixFilePermission> set, FsAction action, PosixFilePermission read,
                            PosixFilePermission write, PosixFilePermission execute) {
        if (action.implies(FsAction.READ)) {
            set.add(read);
        }
        if (action.implies(FsAction.WRITE)) {
            set.add(write);
        }
        if (action.implies(FsAction.EXECUTE)) {
            set.add(execute);
        }
    }
}
