package dev.imgtrain.store;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The texts are HDFS's and Spark's own, from a run whose only DataNode was killed (deploy/local/hadoop.sh). */
class HdfsFailuresTest {
    private static final String AGAIN = "; nothing was committed; once HDFS has its DataNodes back (hdfs dfsadmin -report "
            + "lists them; deploy/local/hadoop.sh start restarts a loopback one), run the same command again";

    @Test
    void aBlockNoLiveDataNodeHoldsInsideSparksTaskFailureIsNamedWithItsFileAndDataNode() {
        Exception spark = new RuntimeException("Job aborted due to stage failure: Task 0 in stage 11.0 failed 1 times, most "
                + "recent failure: Lost task 0.0 in stage 11.0 (TID 15) (192.0.2.2 executor driver): "
                + "org.apache.hadoop.hdfs.BlockMissingException: Could not obtain block: "
                + "BP-1703540158-127.0.0.1-1796306417770:blk_1073741833_1009 file=/wh/datasets/mnist/features/part-00003.parquet"
                + " No live nodes contain current block Block locations: DatanodeInfoWithStorage[127.0.0.1:42479,"
                + "DS-cc544d9b,DISK] Dead nodes:  DatanodeInfoWithStorage[127.0.0.1:42479,DS-cc544d9b,DISK]");
        assertEquals(Optional.of("HDFS cannot read /wh/datasets/mnist/features/part-00003.parquet: no live DataNode holds its "
                + "block (the DataNode at 127.0.0.1:42479 is down or unreachable)" + AGAIN), HdfsFailures.describe(
                new IllegalStateException("wrapped", spark)));
    }

    @Test
    void aBlockNoDataNodeTookIsNamed() {
        IOException write = new IOException("File /wh/runs/dn/checkpoints/epoch-2.zip could only be written to 0 of the 1 "
                + "minReplication nodes. There are 1 datanode(s) running and 1 node(s) are excluded in this operation.");
        assertEquals(Optional.of("HDFS cannot write /wh/runs/dn/checkpoints/epoch-2.zip: no DataNode took its block (1 "
                + "DataNode(s) known to the NameNode, 1 excluded as unreachable)" + AGAIN), HdfsFailures.describe(write));
    }

    @Test
    void theNameNodeGoneIsNamedWhenItIsTheWarehousesAddress() {
        IOException reset = new IOException("Call From vm/127.0.0.1 to localhost:35257 failed on socket exception: "
                + "java.net.SocketException: Connection reset; For more details see:  http://wiki.apache.org/hadoop/SocketException");
        Exception line = new java.io.UncheckedIOException("hdfs://127.0.0.1:35257/wh/_locks/run-nn.lock: cannot read: "
                + reset.getMessage(), reset);
        assertEquals(Optional.of("the HDFS NameNode at localhost:35257 is unreachable (connection reset); nothing was "
                + "committed; once it is back (hdfs dfsadmin -report; deploy/local/hadoop.sh start restarts a loopback one), "
                + "run the same command again"), HdfsFailures.describe(line));
        IOException eof = new IOException("End of File Exception between local host is: \"vm/127.0.0.1\"; destination host "
                + "is: \"localhost\":53901; : java.io.EOFException; For more details see:  http://wiki.apache.org/hadoop/EOFException");
        assertEquals(Optional.of("the HDFS NameNode at localhost:53901 is unreachable (the connection ended: EOFException); "
                + "nothing was committed; once it is back (hdfs dfsadmin -report; deploy/local/hadoop.sh start restarts a "
                + "loopback one), run the same command again"), HdfsFailures.describe(new java.io.UncheckedIOException(
                "hdfs://127.0.0.1:53901/imgtrain-dn/_locks/run-dn.lock: cannot read: " + eof.getMessage(), eof)));
        assertEquals(Optional.empty(), HdfsFailures.describe(new IOException("hdfs://127.0.0.1:8020/wh: " + reset.getMessage())),
                "another port (a ResourceManager, say) is not the NameNode");
    }

    @Test
    void otherFailuresAreLeftAlone() {
        assertEquals(Optional.empty(), HdfsFailures.describe(new IOException("Connection refused")));
    }
}
