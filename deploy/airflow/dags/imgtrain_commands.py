"""The imgtrain commands of the scheduled-retraining DAG, without Airflow.

``tasks(logical_date, params)`` returns, in run order, each task id with the imgtrain arguments that follow the
jar (``spark-submit ... imgtrain-jobs-*-spark.jar <arguments>``). The DAG (imgtrain_retrain.py) turns each into a
SparkSubmitOperator; tests run the same lists with the real CLI. Standard library only.

The run id derives from the logical date, so a retried task or a cleared DAG run reuses its run instead of starting
another: train skips a run already committed (``--if-committed skip``), evaluate and report rewrite the same files,
and promoting the run that is already current changes nothing. Promote exits 3 when the run does not beat the current
model: the DAG marks that "not promoted", not failed.
"""
import re

DEFAULTS = {
    "source": "data/mnist",
    "warehouse": "warehouse",
    "dataset": "mnist",
    "preset": "mnist-dense-512",
    "epochs": 10,
    "min_improvement": 0.0,
}

TASK_IDS = ("ingest", "preprocess", "train", "evaluate", "report", "promote")

# Spark on Java 17 needs these (the same list as bin/java17-flags.sh and the pom's imgtrain.jvm.flags).
JAVA17_FLAGS = " ".join([
    "-XX:+IgnoreUnrecognizedVMOptions",
    *[f"--add-opens=java.base/{p}=ALL-UNNAMED" for p in (
        "java.lang", "java.lang.invoke", "java.lang.reflect", "java.io", "java.net", "java.nio", "java.util",
        "java.util.concurrent", "java.util.concurrent.atomic", "jdk.internal.ref", "sun.nio.ch", "sun.nio.cs",
        "sun.security.action", "sun.util.calendar")],
    "-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true",
])
# The collector of driver and executors (bin/java17-flags.sh's GC_FLAGS: why).
GC_FLAGS = "-XX:+UseParallelGC"
JVM_FLAGS = JAVA17_FLAGS + " " + GC_FLAGS

# The exit code of `imgtrain promote` when the run did not beat the current model.
NOT_PROMOTED = 3


def run_id(logical_date: str, params: dict) -> str:
    """<dataset>-<preset>-<YYYYMMDD>[-<HHMMSS>] of the logical date (an ISO 8601 date or date-time)."""
    p = {**DEFAULTS, **{k: v for k, v in (params or {}).items() if v is not None}}
    digits = re.sub(r"[^0-9]", "", logical_date)
    if len(digits) < 8:
        raise ValueError(f"logical date {logical_date!r}: expected an ISO 8601 date such as 2026-11-29")
    stamp = digits[:8] if len(digits) < 14 or digits[8:14] == "000000" else digits[:8] + "-" + digits[8:14]
    return f"{p['dataset']}-{p['preset']}-{stamp}"


def tasks(logical_date: str, params: dict) -> dict:
    """Task id -> imgtrain arguments, in run order: ingest, preprocess, train, evaluate, report, promote."""
    p = {**DEFAULTS, **{k: v for k, v in (params or {}).items() if v is not None}}
    common = ["--dataset", str(p["dataset"]), "--warehouse", str(p["warehouse"])]
    run = run_id(logical_date, p)
    return {
        "ingest": ["ingest", *common, "--source", str(p["source"])],
        "preprocess": ["preprocess", *common],
        "train": ["train", *common, "--preset", str(p["preset"]), "--epochs", str(int(p["epochs"])),
                  "--run-id", run, "--if-committed", "skip"],
        "evaluate": ["evaluate", *common, "--run", run],
        "report": ["report", *common, "--run", run],
        "promote": ["promote", *common, "--run", run, "--min-improvement", repr(float(p["min_improvement"]))],
    }


def spark_conf(extra) -> dict:
    """The Spark settings of every task: the Java 17 flags and the collector for driver and executors, then ``extra``
    (the Variable ``imgtrain_spark_conf``, a JSON object, or a JSON string of one) over them."""
    import json

    if isinstance(extra, str):
        extra = json.loads(extra) if extra.strip() else {}
    if extra is None:
        extra = {}
    if not isinstance(extra, dict):
        raise ValueError(f"imgtrain_spark_conf: expected a JSON object of Spark settings, got {extra!r}")
    return {"spark.driver.extraJavaOptions": JVM_FLAGS, "spark.executor.extraJavaOptions": JVM_FLAGS,
            **{str(k): str(v) for k, v in extra.items()}}


if __name__ == "__main__":
    import json
    import sys

    # python3 imgtrain_commands.py LOGICAL_DATE '{"epochs": 2}'  -> the task lists as one JSON line
    print(json.dumps(tasks(sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})))
