#!/usr/bin/env python3
"""Before deploy/yarn/submit.sh submits: can YARN give the containers the application will ask for?

Reads the spark-submit properties (the file submit.sh passes: the cluster's spark-defaults.conf, then
conf/spark-yarn.conf, a later line winning; then the --conf / --executor-memory / --driver-memory /
--num-executors options of IMGTRAIN_SUBMIT_OPTS over them), sizes the containers as Spark on YARN asks for them
(memory + memoryOverhead, the overhead 10 % of the memory and at least 384 MB when not set; rounded up to YARN's
minimum allocation), asks the ResourceManager's REST API for each running NodeManager's free memory, and places the
application master (the driver in cluster mode) and the executors on them, largest first. When they do not all fit it
prints one line saying what YARN has and what was asked, and exits 1; an unreachable ResourceManager is not an error
here (spark-submit says so itself). Python's standard library only.

    preflight.py COMMAND PROPERTIES_FILE DEPLOY_MODE          (IMGTRAIN_SUBMIT_OPTS, HADOOP_CONF_DIR from the environment)
"""
import json
import os
import re
import shlex
import sys
import urllib.request
import xml.etree.ElementTree as ET

UNITS = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


def mb(size):
    """Spark's memory strings (4g, 512m, 3072 = MB) in MB."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)b?\s*", size.lower())
    if not m:
        raise ValueError("not a memory size: " + size)
    return int(int(m.group(1)) * UNITS[m.group(2) or "m"])


def properties(path, opts):
    props = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "!")):
                # Java's properties syntax: the key ends at the first whitespace, '=' or ':' (spark-defaults.conf
                # files use either); a later line replaces an earlier one.
                key, value = re.match(r"([^\s=:]+)\s*[=:]?\s*(.*)", line).groups()
                props[key] = value.strip()
    words = shlex.split(opts)
    flags = {"--executor-memory": "spark.executor.memory", "--driver-memory": "spark.driver.memory",
             "--num-executors": "spark.executor.instances"}
    for i, word in enumerate(words):
        if word == "--conf" and i + 1 < len(words) and "=" in words[i + 1]:
            key, _, value = words[i + 1].partition("=")
            props[key] = value
        elif word.startswith("--conf=") and "=" in word[7:]:
            key, _, value = word[7:].partition("=")
            props[key] = value
        elif word in flags and i + 1 < len(words):
            props[flags[word]] = words[i + 1]
    return props


def site(conf_dir, name):
    values = {}
    try:
        root = ET.parse(os.path.join(conf_dir, name)).getroot()
    except (OSError, ET.ParseError):
        return values
    for prop in root.iter("property"):
        values[prop.findtext("name", "").strip()] = prop.findtext("value", "").strip()
    return values


def container(props, memory_key, overhead_key, default_memory):
    memory = props.get(memory_key, default_memory)
    overhead = props.get(overhead_key)
    overhead_mb = mb(overhead) if overhead else max(384, int(mb(memory) * 0.10))
    return mb(memory) + overhead_mb, memory, overhead if overhead else f"{overhead_mb}m (default)"


def main():
    command, props_file, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    props = properties(props_file, os.environ.get("IMGTRAIN_SUBMIT_OPTS", ""))
    yarn = site(os.environ.get("HADOOP_CONF_DIR", "."), "yarn-site.xml")
    minimum = int(yarn.get("yarn.scheduler.minimum-allocation-mb", "1024"))
    web = yarn.get("yarn.resourcemanager.webapp.address") or (
        yarn.get("yarn.resourcemanager.hostname", "0.0.0.0") + ":8088")
    url = "http://" + web.replace("0.0.0.0", "127.0.0.1") + "/ws/v1/cluster/nodes"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            nodes = json.load(r).get("nodes") or {}
    except (OSError, ValueError) as e:
        print(f"deploy/yarn/submit.sh: could not ask the ResourceManager at {url} for its free memory ({e}); "
              "submitting without that check", file=sys.stderr)
        return 0
    free = sorted((n.get("availMemoryMB", 0) for n in nodes.get("node", []) if n.get("state") == "RUNNING"),
                  reverse=True)

    def rounded(size):
        return -(-size // minimum) * minimum

    executors = int(props.get("spark.executor.instances", "2"))
    ex_mb, ex_mem, ex_over = container(props, "spark.executor.memory", "spark.executor.memoryOverhead", "1g")
    if mode == "cluster":
        am_mb, am_mem, am_over = container(props, "spark.driver.memory", "spark.driver.memoryOverhead", "1g")
        am_name = "the driver (YARN's application master in cluster mode)"
        am_keys = f"spark.driver.memory {am_mem} + memoryOverhead {am_over}"
    else:
        am_mb, am_mem, am_over = container(props, "spark.yarn.am.memory", "spark.yarn.am.memoryOverhead", "512m")
        am_name = "the application master"
        am_keys = f"spark.yarn.am.memory {am_mem} + memoryOverhead {am_over}"
    ex_keys = f"spark.executor.memory {ex_mem} + memoryOverhead {ex_over}"
    fix = "lower them with IMGTRAIN_SUBMIT_OPTS or add NodeManagers"
    largest = free[0] if free else 0
    prefix = f"imgtrain {command}: failed: "
    if not free:
        print(prefix + f"YARN has no running NodeManager (asked {url}); start one, or check the cluster")
        return 1
    if rounded(am_mb) > largest:
        print(prefix + f"YARN has {largest} MB free on its largest node; {am_name} asks {rounded(am_mb)} MB "
              f"({am_keys}); {fix}")
        return 1
    if rounded(ex_mb) > largest:
        print(prefix + f"YARN has {largest} MB free on its largest node; each executor asks {rounded(ex_mb)} MB "
              f"({ex_keys}); {fix}")
        return 1
    left = list(free)
    for need in [rounded(am_mb)] + [rounded(ex_mb)] * executors:
        fits = [i for i, f in enumerate(left) if f >= need]
        if not fits:
            print(prefix + f"YARN has {' + '.join(str(f) for f in free)} MB free on {len(free)} node(s); the "
                  f"application asks {rounded(am_mb)} MB for {am_name} ({am_keys}) and {executors} executors of "
                  f"{rounded(ex_mb)} MB ({ex_keys}), which do not fit together; {fix}")
            return 1
        i = max(fits, key=lambda k: left[k])
        left[i] -= need
    return 0


if __name__ == "__main__":
    sys.exit(main())
