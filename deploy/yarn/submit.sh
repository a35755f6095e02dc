#!/usr/bin/env bash
# spark-submit of the shaded jar to YARN with conf/spark-yarn.conf. Needs SPARK_HOME (Spark 3.5.x with YARN support)
# and HADOOP_CONF_DIR (the cluster's; deploy/local/hadoop.sh start prints both for a loopback Hadoop). Arguments are
# imgtrain's, e.g.
#   deploy/yarn/submit.sh run --dataset mnist --source hdfs:///data/mnist --warehouse hdfs:///imgtrain --workers 2
# Deploy mode: cluster (the driver in YARN's ApplicationMaster; the default) or IMGTRAIN_DEPLOY_MODE=client (the
# driver here). Extra spark-submit options: IMGTRAIN_SUBMIT_OPTS="--queue ml --conf spark.executor.instances=4".
# Before submitting it checks with the ResourceManager that the driver's and executors' containers fit the
# NodeManagers' free memory (deploy/yarn/preflight.py; IMGTRAIN_YARN_PREFLIGHT=0 skips it); the driver then waits
# cluster.executor-wait (3 min) for its first executor and fails with one line if none comes.
# At the end it prints the YARN application id, its final state, the tracking URL and how to read the aggregated
# logs; a failed command's one line (as bin/imgtrain prints it, with the application id) is the last line, and the
# exit code is the command's (1 failed, 2 bad configuration).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${SPARK_HOME:?set SPARK_HOME to a Spark 3.5 installation with YARN support}"
: "${HADOOP_CONF_DIR:?set HADOOP_CONF_DIR to the Hadoop configuration of the YARN cluster}"
mode=${IMGTRAIN_DEPLOY_MODE:-cluster}
jar=$(ls "$root"/jobs/target/imgtrain-jobs-*-spark.jar 2>/dev/null | head -1 || true)
if [[ -z $jar ]]; then
  echo "deploy/yarn/submit.sh: no jobs/target/imgtrain-jobs-*-spark.jar; build it with mvn -DskipTests package" >&2
  exit 1
fi
out=$(mktemp)
props=$(mktemp)
trap 'rm -f "$out" "$props"' EXIT
# spark-submit reads --properties-file instead of the cluster's spark-defaults.conf, not as well: the cluster's
# defaults (spark.yarn.archive, event logs, the history server) first, then conf/spark-yarn.conf's, which win where
# both set a key (a later line of a properties file replaces an earlier one).
defaults=${SPARK_CONF_DIR:-$SPARK_HOME/conf}/spark-defaults.conf
{ [[ -f $defaults ]] && cat "$defaults" && echo; cat "$root/conf/spark-yarn.conf"; } > "$props"
# Before submitting: can YARN give the containers at all? (A NodeManager without room leaves the executors pending
# for as long as one waits.) deploy/yarn/preflight.py asks the ResourceManager; IMGTRAIN_YARN_PREFLIGHT=0 skips it.
if [[ ${IMGTRAIN_YARN_PREFLIGHT:-1} != 0 ]] && command -v python3 >/dev/null; then
  if ! line=$(python3 "$root/deploy/yarn/preflight.py" "${1:-run}" "$props" "$mode"); then
    echo "$line" >&2
    exit 1
  fi
fi
# The submitting JVM logs YARN's client at INFO (application id, state changes, tracking URL); imgtrain's own
# configuration goes to the driver and executors with --files.
export SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS:-} -Dlog4j2.configurationFile=file:$root/conf/log4j2.properties,file:$root/conf/log4j2-yarn-submit.properties"
set +e
# shellcheck disable=SC2086
"$SPARK_HOME/bin/spark-submit" --properties-file "$props" --deploy-mode "$mode" \
  --files "$root/conf/log4j2.properties" \
  ${IMGTRAIN_SUBMIT_OPTS:-} \
  --class dev.imgtrain.jobs.Main "$jar" "$@" 2> >(tee "$out" >&2)
code=$?
set -e
wait # for tee
app=$(grep -o 'application_[0-9]*_[0-9]*' "$out" | head -1 || true)
if [[ -z $app ]]; then
  exit "$code" # never reached YARN (a bad option, no ResourceManager): spark-submit said why
fi
url=$(grep -o 'tracking URL: [^ ]*' "$out" | tail -1 | cut -d' ' -f3 || true)
state=
if [[ $mode == cluster ]]; then # in client mode YARN's final status is the driver's: its exit code here
  state=$(grep -o 'final status: [A-Z]*' "$out" | tail -1 | cut -d' ' -f3 || true)
fi
echo "YARN application $app${state:+: $state}${url:+, tracking URL $url}" >&2
echo "aggregated logs (when it has ended): yarn logs -applicationId $app" >&2
if ((code != 0)) && [[ $mode == cluster ]]; then
  # The driver's line, from the application's diagnostics (Main.ApplicationFailed): "imgtrain exit N: LINE".
  line=$(grep -o 'imgtrain exit [0-9]*: .*' "$out" | tail -1 || true)
  if [[ -n $line ]]; then
    code=${line#imgtrain exit }
    code=${code%%:*}
    echo "${line#imgtrain exit *: }"
  else
    # No line from the driver: YARN ended the application (its node lost, killed by yarn application -kill, over
    # its memory). YARN's diagnostics of the driver's container say why: "... exited with exitCode: -100 Failing
    # this attempt.Diagnostics: Container released on a *lost* nodeFor more detailed output, ...".
    am_code=$(grep -o 'exited with  *exitCode: -\?[0-9]*' "$out" | tail -1 | grep -o -- '-\?[0-9]*$' || true)
    why=$(sed -n 's/.*Failing this attempt\.Diagnostics: *\(\[[^]]*\] *\)\?\(.*\)/\2/p' "$out" | tail -1 \
      | sed 's/For more detailed output.*//; s/[. ]*$//' || true)
    if [[ -n $am_code || -n $why ]]; then
      echo "imgtrain ${1:-run}: failed: YARN ended the application before the command did: the driver's container" \
        "${am_code:+exited with code $am_code}${why:+${am_code:+: }$why}; run the same command again once the" \
        "cluster is whole (a training run resumes after its last checkpoint) (YARN application $app)"
    else
      echo "imgtrain: the YARN application $app failed before the command ended; see its logs: yarn logs -applicationId $app"
    fi
    code=1
  fi >&2
fi
exit "$code"
