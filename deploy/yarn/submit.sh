#!/usr/bin/env bash
# spark-submit of the shaded jar to YARN with conf/spark-yarn.conf. Needs SPARK_HOME (Spark 3.5.x) and
# HADOOP_CONF_DIR (the cluster's). Arguments are imgtrain's, e.g.
#   deploy/yarn/submit.sh run --dataset mnist --source hdfs:///data/mnist --warehouse hdfs:///imgtrain --workers 2
# Extra spark-submit options: IMGTRAIN_SUBMIT_OPTS="--queue ml --conf spark.executor.instances=4".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${SPARK_HOME:?set SPARK_HOME to a Spark 3.5 installation}"
: "${HADOOP_CONF_DIR:?set HADOOP_CONF_DIR to the YARN cluster's Hadoop configuration}"
jar=$(ls "$root"/jobs/target/imgtrain-jobs-*-spark.jar | head -1)
# shellcheck disable=SC2086
exec "$SPARK_HOME/bin/spark-submit" --properties-file "$root/conf/spark-yarn.conf" \
  --files "$root/conf/log4j2.properties" \
  ${IMGTRAIN_SUBMIT_OPTS:-} \
  --class dev.imgtrain.jobs.Main "$jar" "$@"
