"""Scheduled retraining: ingest -> preprocess -> train -> evaluate -> report -> promote, weekly, one spark-submit each.

Set-up (docs: "Scheduled retraining"): the apache-airflow-providers-apache-spark provider; a Spark connection
(Variable ``imgtrain_spark_conn_id``, default ``spark_default``) whose host is the master (yarn, spark://..., k8s://...);
the Variable ``imgtrain_jar``: the path or URI of ``imgtrain-jobs-<version>-spark.jar``; and optionally
``imgtrain_spark_conf`` (a JSON object of extra Spark settings). The task arguments come from imgtrain_commands.py,
which has no Airflow import and is unit-tested without Airflow.

Airflow parses this file every few seconds: nothing here reads a Variable at parse time (that is a metadata-database
query per parse, and a DAG that breaks while the database is slow). The jar and the Spark settings are templates
(``var.value`` / ``var.json``, rendered when a task runs); the connection id, which SparkSubmitOperator does not
template, is read in ``execute``. Importable with Airflow 2.x and 3.x names.
"""
from datetime import datetime

try:  # Airflow 3
    from airflow.sdk import DAG, Param, Variable
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.models import Variable
    from airflow.models.param import Param
from airflow.exceptions import AirflowSkipException
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

import imgtrain_commands


class ImgtrainSubmitOperator(SparkSubmitOperator):
    """spark-submit of one imgtrain command; the Spark connection id comes from a Variable when the task runs."""

    def execute(self, context):
        conn_id = Variable.get("imgtrain_spark_conn_id", default=None) if _AIRFLOW_3 else \
            Variable.get("imgtrain_spark_conn_id", default_var=None)
        if conn_id:
            # The provider keeps it as _conn_id (and conn_id in newer versions); the hook is made in execute.
            for attribute in ("_conn_id", "conn_id"):
                if hasattr(self, attribute):
                    setattr(self, attribute, conn_id)
        return super().execute(context)


class PromoteOperator(ImgtrainSubmitOperator):
    """spark-submit of `imgtrain promote`: exit code 3 (the run did not beat the current model) marks the task skipped."""

    def execute(self, context):
        try:
            return super().execute(context)
        except Exception as e:  # SparkSubmitHook raises AirflowException with the return code in its message
            if f"Error code is: {imgtrain_commands.NOT_PROMOTED}" in str(e):
                raise AirflowSkipException("not promoted: the run did not beat the current model") from e
            raise


_AIRFLOW_3 = DAG.__module__.startswith("airflow.sdk")

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
    user_defined_macros={"imgtrain_tasks": imgtrain_commands.tasks, "imgtrain_spark_conf": imgtrain_commands.spark_conf},
    tags=["imgtrain"],
) as dag:
    previous = None
    for task_id in imgtrain_commands.TASK_IDS:
        operator = PromoteOperator if task_id == "promote" else ImgtrainSubmitOperator
        task = operator(
            task_id=task_id,
            # Rendered when the task runs: Variables are read then, not when the file is parsed.
            application="{{ var.value.get('imgtrain_jar', 'imgtrain-jobs-spark.jar') }}",
            conf="{{ imgtrain_spark_conf(var.value.get('imgtrain_spark_conf', '{}')) }}",
            java_class="dev.imgtrain.jobs.Main",
            name=f"imgtrain-{task_id}",
            # Rendered at run time (natively, as a list) by imgtrain_commands.tasks from the logical date and params.
            application_args="{{ imgtrain_tasks(ds, params)['%s'] }}" % task_id,
        )
        if previous is not None:
            previous >> task
        previous = task
