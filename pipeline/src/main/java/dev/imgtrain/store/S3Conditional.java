package dev.imgtrain.store;

import com.amazonaws.services.s3.model.PutObjectRequest;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.AWSServiceIOException;
import org.apache.hadoop.fs.s3a.S3AFileStatus;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.apache.hadoop.fs.s3a.WriteOperationHelper;

import java.io.ByteArrayInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;

/**
 * S3's conditional writes on an {@code s3a://} warehouse: a PUT with {@code If-None-Match: *} (create only when the
 * key does not exist) and with {@code If-Match: <ETag>} (replace only the version one read), both decided by the
 * server in one request. Hadoop 3.3.4's S3A has no API for them, so the headers go on the AWS SDK v1 request S3A's own
 * {@link WriteOperationHelper} builds and sends: same endpoint, credentials, signing and encryption settings as every
 * other write of the warehouse. Amazon S3 has honoured both since 2024; S3Proxy 4.1.0's filesystem store resolves
 * {@code If-None-Match: *} as it writes (ObjectStorageIT: one winner of 8 contenders in each of 60 rounds).
 *
 * <p>Its own S3A instance with {@code fs.s3a.retry.limit = 0}, open while the warehouse is: S3A retries a 412 as an idempotent PUT's failure, 7
 * times with back-off (11-20 s per refused create, measured), where the answer is final at once. The SDK's own retries
 * of connection failures and 5xx still apply.
 *
 * <p>Loaded only for S3A file systems ({@link Warehouse#isS3a}): verifying this class loads hadoop-aws and the AWS SDK,
 * which a cluster without S3 need not have.
 */
final class S3Conditional {
    private static final int PRECONDITION_FAILED = 412;
    private static final int CONFLICT = 409;
    private static final int NOT_FOUND = 404;
    private static final int NOT_IMPLEMENTED = 501;

    private final S3AFileSystem fs;

    private S3Conditional(S3AFileSystem fs) {
        this.fs = fs;
    }

    static S3Conditional open(FileSystem warehouseFs) throws IOException {
        Configuration conf = new Configuration(warehouseFs.getConf());
        conf.setInt("fs.s3a.retry.limit", 0);
        return new S3Conditional((S3AFileSystem) FileSystem.newInstance(warehouseFs.getUri(), conf));
    }

    /** Thrown when the server refuses conditional writes (501): the caller decides what it can still promise. */
    static final class NotSupportedException extends IOException {
        NotSupportedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Creates {@code file} when no object has its key; its new ETag. {@link FileAlreadyExistsException} when one does
     * (412, or 409 when another conditional write to the key is in flight).
     */
    String create(Path file, byte[] content) throws IOException {
        try {
            return put(file, content, "If-None-Match", "*");
        } catch (AWSServiceIOException e) {
            if (e.getStatusCode() == PRECONDITION_FAILED || e.getStatusCode() == CONFLICT) {
                throw new FileAlreadyExistsException(file + " exists");
            }
            throw unsupportedOr(file, e);
        }
    }

    /**
     * Replaces {@code file} when its ETag is still {@code etag}; its new ETag, or null when the object changed or is
     * gone (someone else wrote or deleted it since it was read).
     */
    String replace(Path file, byte[] content, String etag) throws IOException {
        try {
            return put(file, content, "If-Match", etag);
        } catch (AWSServiceIOException e) {
            if (e.getStatusCode() == PRECONDITION_FAILED || e.getStatusCode() == CONFLICT
                    || e.getStatusCode() == NOT_FOUND) {
                return null;
            }
            throw unsupportedOr(file, e);
        } catch (FileNotFoundException gone) {
            return null;
        }
    }

    /**
     * The ETag of {@code file} by one HEAD request through {@code fs} (the warehouse's own S3A, its retries), where
     * {@code getFileStatus} would also list the key as a directory: fewer requests to wait out when the server is gone.
     *
     * @throws FileNotFoundException when there is no such object
     */
    static String etagOf(FileSystem fs, Path file) throws IOException {
        return ((S3AFileSystem) fs).getObjectMetadata(fs.makeQualified(file)).getETag();
    }

    /** The ETag of {@code status} when S3A reported one. */
    static String etag(FileStatus status) {
        return status instanceof S3AFileStatus s3 ? s3.getETag() : null;
    }

    private String put(Path file, byte[] content, String header, String value) throws IOException {
        WriteOperationHelper helper = fs.getWriteOperationHelper();
        PutObjectRequest request = helper.createPutObjectRequest(fs.pathToKey(fs.makeQualified(file)),
                new ByteArrayInputStream(content), content.length, null);
        request.putCustomRequestHeader(header, value);
        return helper.putObject(request).getETag();
    }

    private static IOException unsupportedOr(Path file, AWSServiceIOException e) {
        if (e.getStatusCode() == NOT_IMPLEMENTED) {
            return new NotSupportedException(file + ": the S3 server does not support conditional writes ("
                    + e.getErrorCode() + ")", e);
        }
        return e;
    }
}
