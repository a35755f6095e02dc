package dev.imgtrain.store;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NioLocalFileSystemTest {
    @TempDir
    java.nio.file.Path dir;

    private FileSystem fs() throws Exception {
        Configuration conf = new Configuration();
        conf.set(NioLocalFileSystem.KEY, NioLocalFileSystem.class.getName());
        conf.set("fs.permissions.umask-mode", "027");
        return FileSystem.newInstance(URI.create("file:///"), conf);
    }

    @Test
    void createsFilesAndDirectoriesWithTheUmaskAndKeepsChecksums() throws Exception {
        try (FileSystem fs = fs()) {
            assertInstanceOf(NioLocalFileSystem.class, fs);
            Path sub = new Path(dir.toUri().toString(), "a/b");
            assertTrue(fs.mkdirs(sub));
            try (FSDataOutputStream out = fs.create(new Path(sub, "x.txt"))) {
                out.write("hello".getBytes(StandardCharsets.UTF_8));
            }
            assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a/b"))));
            assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a/b/x.txt"))));
            // Still Hadoop's checksummed local file system: the .crc file is written and read back.
            assertTrue(Files.exists(dir.resolve("a/b/.x.txt.crc")));
            try (var in = fs.open(new Path(sub, "x.txt"))) {
                assertEquals("hello", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void setPermissionSetsEveryBitAndReadsBackThroughHadoop() throws Exception {
        try (FileSystem fs = fs()) {
            Path file = new Path(dir.toUri().toString(), "y.bin");
            fs.create(file).close();
            for (String mode : new String[]{"600", "754", "777", "000", "1777"}) {
                fs.setPermission(file, new FsPermission(mode));
                assertEquals(new FsPermission(mode), fs.getFileStatus(file).getPermission(), mode);
            }
        }
    }
}
