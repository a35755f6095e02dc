"""Unit tests of imgtrain_commands, run with Debian's python3 where Airflow is not installed:
    /usr/bin/python3 -m unittest discover -s deploy/airflow/tests
"""
import importlib.util
import pathlib
import sys
import unittest

DAGS = pathlib.Path(__file__).resolve().parent.parent / "dags"
sys.path.insert(0, str(DAGS))
import imgtrain_commands as c  # noqa: E402


class TasksTest(unittest.TestCase):
    def test_airflow_is_not_needed(self):
        self.assertIsNone(importlib.util.find_spec("airflow"), "these tests run where Airflow is not installed")

    def test_tasks_in_run_order_with_defaults(self):
        t = c.tasks("2026-11-29", {})
        self.assertEqual(list(t), list(c.TASK_IDS))
        self.assertEqual(t["ingest"], ["ingest", "--dataset", "mnist", "--warehouse", "warehouse", "--source", "data/mnist"])
        self.assertEqual(t["train"], ["train", "--dataset", "mnist", "--warehouse", "warehouse", "--preset",
                                      "mnist-dense-512", "--epochs", "10", "--run-id", "mnist-mnist-dense-512-20261129",
                                      "--if-committed", "skip"])
        self.assertEqual(t["promote"][-2:], ["--min-improvement", "0.0"])

    def test_the_run_id_comes_from_the_logical_date(self):
        a = c.tasks("2026-11-29T00:00:00+00:00", {"epochs": 2})
        b = c.tasks("2026-11-29", {"epochs": 2})
        self.assertEqual(a, b, "a retried or cleared run of the same date reuses its run")
        self.assertNotEqual(c.run_id("2026-11-29", {}), c.run_id("2026-12-06", {}))
        self.assertEqual(c.run_id("2026-11-29T06:30:00", {}), "mnist-mnist-dense-512-20261129-063000")
        for task in ("evaluate", "report", "promote"):
            self.assertIn("mnist-mnist-dense-512-20261129", a[task])

    def test_params_override_and_missing_or_none_ones_default(self):
        t = c.tasks("2026-01-05", {"dataset": "cifar10", "preset": "cifar10-dense-32-16", "epochs": 3,
                                   "warehouse": "s3a://b/wh", "source": None, "min_improvement": 0.005})
        self.assertEqual(t["train"][t["train"].index("--run-id") + 1], "cifar10-cifar10-dense-32-16-20260105")
        self.assertEqual(t["ingest"][-1], "data/mnist", "None falls back to the default")
        self.assertIn("s3a://b/wh", t["report"])
        self.assertEqual(t["promote"][-1], "0.005")

    def test_a_logical_date_without_a_date_is_refused(self):
        with self.assertRaises(ValueError):
            c.tasks("yesterday", {})


class DagFileTest(unittest.TestCase):
    """The DAG file itself (Airflow is not installed here: read as source)."""

    DAG_FILE = DAGS / "imgtrain_retrain.py"

    def test_no_variable_is_read_when_the_file_is_parsed(self):
        import ast

        tree = ast.parse(self.DAG_FILE.read_text())
        at_parse_time = []

        def visit(node, in_function):
            for child in ast.iter_child_nodes(node):
                inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                        and child.func.attr == "get" and isinstance(child.func.value, ast.Name)
                        and child.func.value.id == "Variable" and not inside):
                    at_parse_time.append(child.lineno)
                visit(child, inside)

        visit(tree, False)
        self.assertEqual([], at_parse_time, "Variable.get outside a function runs at every parse")
        source = self.DAG_FILE.read_text()
        self.assertIn("var.value.get('imgtrain_jar'", source)
        self.assertIn("imgtrain_spark_conf(var.value.get('imgtrain_spark_conf'", source)

    def test_airflow_2_and_3_names(self):
        source = self.DAG_FILE.read_text()
        self.assertIn("from airflow.sdk import DAG, Param, Variable", source)
        self.assertIn("from airflow.models import Variable", source)
        self.assertIn("from airflow.models.param import Param", source)


class SparkConfTest(unittest.TestCase):
    def test_java_17_flags_then_the_variable(self):
        conf = c.spark_conf('{"spark.executor.memory": "3g", "spark.executor.cores": 2}')
        self.assertEqual(c.JAVA17_FLAGS + " -XX:+UseParallelGC", conf["spark.driver.extraJavaOptions"])
        self.assertEqual(c.JAVA17_FLAGS + " -XX:+UseParallelGC", conf["spark.executor.extraJavaOptions"])
        self.assertEqual("3g", conf["spark.executor.memory"])
        self.assertEqual("2", conf["spark.executor.cores"])
        self.assertIn("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", c.JAVA17_FLAGS)
        self.assertEqual(c.spark_conf({}), c.spark_conf(""))
        self.assertEqual(c.spark_conf(None), c.spark_conf("{}"))

    def test_the_flags_are_the_launchers(self):
        import re

        launcher = (DAGS.parent.parent.parent / "bin" / "java17-flags.sh").read_text()
        opened = sorted(set(re.findall(r"--add-opens=java\.base/([\w.]+)=ALL-UNNAMED", launcher)))
        if not opened:  # the launcher lists the packages, the flag is built from them
            opened = sorted(set(re.findall(r"\b((?:java|jdk|sun)\.[\w.]+)\b", launcher)))
        self.assertTrue(opened, "bin/java17-flags.sh lists packages")
        for package in opened:
            self.assertIn(f"--add-opens=java.base/{package}=ALL-UNNAMED", c.JAVA17_FLAGS, package)
        block = re.search(r"^JAVA17_FLAGS=\(\n(.*?)\n\)", launcher, re.S | re.M)
        self.assertIsNotNone(block, "bin/java17-flags.sh defines JAVA17_FLAGS=( ... )")
        self.assertEqual(block.group(1).split(), c.JAVA17_FLAGS.split())
        gc = re.search(r"^GC_FLAGS=\((.*?)\)", launcher, re.M)
        self.assertIsNotNone(gc, "bin/java17-flags.sh defines GC_FLAGS=( ... )")
        self.assertEqual(gc.group(1).split(), c.GC_FLAGS.split())

    def test_a_variable_that_is_not_an_object_is_refused(self):
        with self.assertRaises(ValueError) as e:
            c.spark_conf("[1, 2]")
        self.assertIn("imgtrain_spark_conf: expected a JSON object", str(e.exception))


if __name__ == "__main__":
    unittest.main()
