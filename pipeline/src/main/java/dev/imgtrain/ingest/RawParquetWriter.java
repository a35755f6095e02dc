package dev.imgtrain.ingest;

import dev.imgtrain.datasets.Example;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

import java.io.Closeable;
import java.io.IOException;
import java.util.Map;

/**
 * Writes decoded examples as one Parquet file of the raw table ({@link IngestJob#RAW_SCHEMA}: id, split, label, image)
 * with parquet-mr, the library Spark's own writer uses, straight from each {@link Example}: the pixel bytes go to the
 * column writer as they are. Spark's DataFrame writer copies every image twice first (into an UnsafeRow, then out of it
 * with {@code getBinary}, a fresh array per row); those copies were the writing thread's largest cost in a profile of
 * the CIFAR-10 ingest. Spark reads the file back with the same schema (required fields: not nullable).
 */
final class RawParquetWriter implements Closeable {
    static final MessageType SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.INT64).named("id")
            .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("split")
            .required(PrimitiveTypeName.INT32).named("label")
            .required(PrimitiveTypeName.BINARY).named("image")
            .named("spark_schema");

    /**
     * Row-group size. parquet-mr keeps a row group in heap slabs until it is full; at its 128 MB default the CIFAR-10
     * ingest took 1.1-1.55 s (the last group flushed after decoding ends, and the slabs churn the heap), at 16 MB
     * 0.84-0.9 s, at 8 MB 0.79-0.82 s, at 4 MB no better (bench --ingest-only, 6 repeats each, same session). Snappy
     * and dictionary encoding made no difference beyond noise; Snappy shrinks MNIST's pixels 3.3x, so it stays.
     */
    static final long ROW_GROUP_BYTES = 8L << 20;

    private final ParquetWriter<Row> writer;

    /** One row of the raw table. */
    record Row(long id, Binary split, int label, byte[] image) {
    }

    RawParquetWriter(Path file, Configuration hadoop) throws IOException {
        writer = new Builder(file).withConf(hadoop)
                .withWriteMode(ParquetFileWriter.Mode.CREATE)
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .withRowGroupSize(ROW_GROUP_BYTES)
                // Unique per row: a dictionary never pays off, and trying one cost the writing thread about a quarter
                // of its time (hashing every image, a growing id map, then the fall-back to plain encoding).
                .withDictionaryEncoding("id", false)
                .withDictionaryEncoding("image", false)
                .build();
    }

    void write(Example e, Binary split) throws IOException {
        writer.write(new Row(e.index(), split, e.label(), e.pixels()));
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }

    private static final class Builder extends ParquetWriter.Builder<Row, Builder> {
        Builder(Path file) {
            super(file);
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        protected WriteSupport<Row> getWriteSupport(Configuration conf) {
            return new RowWriteSupport();
        }
    }

    private static final class RowWriteSupport extends WriteSupport<Row> {
        private RecordConsumer out;

        @Override
        public WriteContext init(Configuration configuration) {
            // The Spark schema Spark's own writer would record, so that readers see exactly RAW_SCHEMA.
            return new WriteContext(SCHEMA, Map.of("org.apache.spark.sql.parquet.row.metadata", IngestJob.RAW_SCHEMA.json()));
        }

        @Override
        public void prepareForWrite(RecordConsumer recordConsumer) {
            out = recordConsumer;
        }

        @Override
        public void write(Row row) {
            out.startMessage();
            out.startField("id", 0);
            out.addLong(row.id());
            out.endField("id", 0);
            out.startField("split", 1);
            out.addBinary(row.split());
            out.endField("split", 1);
            out.startField("label", 2);
            out.addInteger(row.label());
            out.endField("label", 2);
            out.startField("image", 3);
            out.addBinary(Binary.fromConstantByteArray(row.image()));
            out.endField("image", 3);
            out.endMessage();
        }
    }
}
