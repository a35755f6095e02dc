package dev.imgtrain.jobs;

import dev.imgtrain.config.ConfigException;
import dev.imgtrain.config.PipelineConfig;
import dev.imgtrain.store.ObjectStorage;
import dev.imgtrain.store.Warehouse;
import dev.imgtrain.ui.UiServer;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

import java.net.BindException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code imgtrain ui}: serves the warehouse's runs, sweeps, models and datasets as web pages until SIGINT or SIGTERM
 * (then exits 0). No Spark: the warehouse is read through Hadoop's FileSystem. An s3a:// warehouse gets the
 * {@code storage.s3a.*} settings but no preflight check: an S3 server that is down makes pages say so, and the
 * server stays up for when it is back.
 */
@Command(name = "ui", mixinStandardHelpOptions = true,
        description = "A read-only web UI over a warehouse (file:, hdfs:, s3a:): runs, compare, sweeps, models, "
                + "datasets, and a JSON API under /api/. Serves until interrupted (Ctrl-C); exit 0.")
final class UiCommand implements Callable<Integer>, ConfiguredCommand {
    private static final Logger LOG = LoggerFactory.getLogger(UiCommand.class);

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 makes the "
                    + "warehouse readable from the network).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8765",
            description = "Port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Override
    public PipelineConfig config() {
        if (port < 0 || port > 65535) {
            throw new ConfigException("--port " + port + ": expected 0 (a free port) to 65535");
        }
        return common.loader().load();
    }

    @Override
    public Integer call() throws Exception {
        PipelineConfig config = config();
        Warehouse warehouse = warehouse(config);
        if (!host.equals("127.0.0.1") && !host.equals("localhost") && !host.equals("::1")) {
            LOG.warn("ui: listening on {}: anyone who can reach this machine on port {} can read the warehouse {} "
                    + "(runs, models, configurations); there is no login", host, port, config.warehouse());
        }
        UiServer server;
        try {
            server = UiServer.start(warehouse, host, port);
        } catch (BindException e) {
            throw new IllegalStateException("cannot listen on " + host + ":" + port + " (" + e.getMessage()
                    + "): the port is in use (another imgtrain ui?) or the address is not this machine's; choose another "
                    + "with --port, or --port 0 for a free one", e);
        }
        CountDownLatch stop = new CountDownLatch(1);
        for (String name : new String[]{"INT", "TERM"}) {
            Signal.handle(new Signal(name), s -> stop.countDown());
        }
        // The line scripts (and the tests) wait for: the address, as bound.
        System.out.println("imgtrain ui: " + server.address() + " (" + warehouse.root() + ")");
        System.out.flush();
        stop.await();
        server.close();
        LOG.info("ui: stopped");
        return 0;
    }

    /** The warehouse with the S3A settings but no preflight; a URI no file system takes is a usage error (exit 2). */
    static Warehouse warehouse(PipelineConfig config) {
        Configuration hadoop = RunsCommand.hadoopWithoutSpark();
        if (ObjectStorage.isS3a(config.warehouse())) {
            ObjectStorage.hadoopSettings(config.storage()).forEach(hadoop::set);
        }
        try {
            return new Warehouse(config.warehouse(), hadoop);
        } catch (RuntimeException e) {
            throw new ConfigException("--warehouse " + config.warehouse() + ": " + e.getMessage(), e);
        }
    }
}
