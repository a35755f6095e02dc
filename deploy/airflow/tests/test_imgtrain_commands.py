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


if __name__ == "__main__":
    unittest.main()
