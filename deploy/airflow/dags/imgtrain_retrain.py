"""Scheduled retraining: ingest -> preprocess -> train -> evaluate -> report -> promote, weekly, one spark-submit each.

Set-up (docs: "Scheduled retraining"): the apache-airflow-providers-apache-spark provider; a Spark connection
(Variable ``imgtrain_spark_conn_id``, default ``spark_default``) whose host is the master (yarn, spark://..., k8s://...);
the Variable ``imgtrain_jar``: the path or URI of ``imgtrain-jobs-<version>-spark.jar``; and optionally
``imgtrain_spark_conf`` (a JSON object of extra Spark settings). The task arguments come from imgtrain_commands.py,
which has no Airflow import and is unit-tested without Airflow.
"""
import json
from datetime import datetime

from airflow import DAG
from airflow.exceptions import AirflowSkipException
from airflow.models import Variable
from airflow.models.param import Param
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

import imgtrain_commands

# Spark on Java 17 needs these (the same list as bin/java17-flags.sh and the pom's imgtrain.jvm.flags).
JAVA17_FLAGS = " ".join([
    "-XX:+IgnoreUnrecognizedVMOptions",
    *[f"--add-opens=java.base/{p}=ALL-UNNAMED" for p in (
        "java.lang", "java.lang.invoke", "java.lang.reflect", "java.io", "java.net", "java.nio", "java.util",
        "java.util.concurrent", "java.util.concurrent.atomic", "jdk.internal.ref", "sun.nio.ch", "sun.nio.cs",
        "sun.security.action", "sun.util.calendar")],
    "-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true",
])


class PromoteOperator(SparkSubmitOperator):
    """spark-submit of `imgtrain promote`: exit code 3 (the run did not beat the current model) marks the task skipped."""

    def execute(self, context):
        try:
            return super().execute(context)
        except Exception as e:  # SparkSubmitHook raises AirflowException with the return code in its message
            if f"Error code is: {imgtrain_commands.NOT_PROMOTED}" in str(e):
                raise AirflowSkipException("not promoted: the run did not beat the current model") from e
            raise


def _conf():
    extra = json.loads(Variable.get("imgtrain_spark_conf", default_var="{}"))
    return {"spark.driver.extraJavaOptions": JAVA17_FLAGS, "spark.executor.extraJavaOptions": JAVA17_FLAGS, **extra}


with DAG(
    dag_id="imgtrain_retrain",
    description="Retrain the dense image classifier and promote it when it beats the model in use",
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        "source": Param(imgtrain_commands.DEFAULTS["source"], type="string"),
        "warehouse": Param(imgtrain_commands.DEFAULTS["warehouse"], type="string"),
        "dataset": Param(imgtrain_commands.DEFAULTS["dataset"], type="string"),
        "preset": Param(imgtrain_commands.DEFAULTS["preset"], type="string"),
        "epochs": Param(imgtrain_commands.DEFAULTS["epochs"], type="integer", minimum=1),
        "min_improvement": Param(imgtrain_commands.DEFAULTS["min_improvement"], type="number", minimum=0),
    },
    render_template_as_native_obj=True,
    user_defined_macros={"imgtrain_tasks": imgtrain_commands.tasks},
    tags=["imgtrain"],
) as dag:
    previous = None
    for task_id in imgtrain_commands.TASK_IDS:
        operator = PromoteOperator if task_id == "promote" else SparkSubmitOperator
        task = operator(
            task_id=task_id,
            conn_id=Variable.get("imgtrain_spark_conn_id", default_var="spark_default"),
            application=Variable.get("imgtrain_jar", default_var="imgtrain-jobs-spark.jar"),
            java_class="dev.imgtrain.jobs.Main",
            name=f"imgtrain-{task_id}",
            # Rendered at run time (natively, as a list) by imgtrain_commands.tasks from the logical date and params.
            application_args="{{ imgtrain_tasks(ds, params)['%s'] }}" % task_id,
            conf=_conf(),
        )
        if previous is not None:
            previous >> task
        previous = task
