package dev.imgtrain.train;

import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Feeds a {@link Progress} from Spark's listener bus for the jobs a stage marks ({@link #during}): ingest's decode,
 * the mini-batch export, predict's scoring. The progress counts the marked job's tasks (done of all its stages'
 * tasks); training epochs feed their own progress with averaging rounds and are not marked.
 */
public final class TaskProgress extends SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger(TaskProgress.class);
    /** The Spark local property that marks a job and titles its progress. */
    static final String PROPERTY = "imgtrain.progress";
    private static final Map<SparkContext, TaskProgress> ATTACHED =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private final Progress progress;
    private final Set<Integer> stages = ConcurrentHashMap.newKeySet();
    private volatile int job = -1;

    TaskProgress(Progress progress) {
        this.progress = progress;
    }

    /** Shows the progress of marked jobs of {@code sc} as {@code configured} (auto, bar, log, none) says; once per context. */
    public static void attach(SparkContext sc, String configured) {
        Progress.Mode mode = Progress.mode(configured);
        if (mode == Progress.Mode.NONE) {
            return;
        }
        ATTACHED.computeIfAbsent(sc, c -> {
            TaskProgress listener = new TaskProgress(Progress.of(mode, LOG));
            c.addSparkListener(listener);
            return listener;
        });
    }

    /** Runs {@code work}, whose Spark jobs (on this thread) show their progress titled {@code title}. */
    public static <T> T during(SparkContext sc, String title, Supplier<T> work) {
        String before = sc.getLocalProperty(PROPERTY);
        sc.setLocalProperty(PROPERTY, title);
        try {
            return work.get();
        } finally {
            sc.setLocalProperty(PROPERTY, before);
        }
    }

    @Override
    public void onJobStart(SparkListenerJobStart start) {
        String title = start.properties() == null ? null : start.properties().getProperty(PROPERTY);
        if (title == null || job >= 0) {
            return; // not marked, or another marked job is shown already
        }
        long tasks = 0;
        for (StageInfo stage : scala.collection.JavaConverters.seqAsJavaList(start.stageInfos())) {
            stages.add(stage.stageId());
            tasks += stage.numTasks();
        }
        job = start.jobId();
        progress.start(title, tasks, "tasks");
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (job >= 0 && stages.contains(end.stageId())) {
            progress.advance(1, 0, null);
        }
    }

    @Override
    public void onJobEnd(SparkListenerJobEnd end) {
        if (end.jobId() == job) {
            progress.finish();
            stages.clear();
            job = -1;
        }
    }
}
