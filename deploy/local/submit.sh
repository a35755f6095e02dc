#!/usr/bin/env bash
# spark-submit (Spark's own SparkSubmit, from the jars deploy/local/cluster.sh resolved) of the shaded jar to the
# local standalone cluster. Arguments are imgtrain's:  deploy/local/submit.sh run --source data/mnist --workers 2
# Spark properties: conf/spark-standalone.conf, then IMGTRAIN_SUBMIT_OPTS (extra spark-submit options, e.g.
# "--conf spark.executor.memory=4g"). Builds the jar when it is missing. Start the cluster first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${IMGTRAIN_CLUSTER_DIR:-$root/.cluster}
port=${IMGTRAIN_CLUSTER_PORT:-7077}
# shellcheck source=bin/java17-flags.sh
. "$root/bin/java17-flags.sh"
export SPARK_HOME=$dir/spark-home SPARK_LOCAL_IP=127.0.0.1
if [[ ! -d $SPARK_HOME/jars ]]; then
  echo "deploy/local/submit.sh: no Spark jars in $SPARK_HOME; run deploy/local/cluster.sh start first" >&2
  exit 1
fi
jar=$(ls "$root"/jobs/target/imgtrain-jobs-*-spark.jar 2>/dev/null | head -1 || true)
if [[ -z $jar ]]; then
  echo "building the spark-submit jar (mvn -DskipTests package)" >&2
  (cd "$root" && mvn -B -q -DskipTests package) >&2
  jar=$(ls "$root"/jobs/target/imgtrain-jobs-*-spark.jar | head -1)
fi
# GC_FLAGS and BLAS_FLAGS (bin/java17-flags.sh) for the driver and the executors: the same model as a local[2] run of
# the seed.
executor_opts="${JAVA17_FLAGS[*]} ${GC_FLAGS[*]} -Dorg.bytedeco.javacpp.maxbytes=4G -Dorg.bytedeco.javacpp.maxphysicalbytes=6G ${BLAS_FLAGS[*]}"
# shellcheck disable=SC2086
exec java "${JAVA17_FLAGS[@]}" "${GC_FLAGS[@]}" "${BLAS_FLAGS[@]}" -Xmx${IMGTRAIN_DRIVER_MEMORY:-3g} -cp "$SPARK_HOME/conf:$SPARK_HOME/jars/*" \
  -Dlog4j2.configurationFile="${IMGTRAIN_LOG4J:-$root/conf/log4j2.properties}" \
  org.apache.spark.deploy.SparkSubmit \
  --master "spark://127.0.0.1:$port" --deploy-mode client \
  --properties-file "$root/conf/spark-standalone.conf" \
  --conf "spark.executor.extraJavaOptions=$executor_opts" \
  --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
  ${IMGTRAIN_SUBMIT_OPTS:-} \
  --class dev.imgtrain.jobs.Main "$jar" "$@"
