#!/usr/bin/env bash
# A real Spark standalone cluster on 127.0.0.1: one master and IMGTRAIN_CLUSTER_WORKERS workers (default 2), each
# its own JVM, run from the Spark jars Maven resolves for deploy/local/spark-dist/pom.xml (no Spark download).
#   deploy/local/cluster.sh start|stop|status
# Environment: IMGTRAIN_CLUSTER_DIR (state, logs, SPARK_HOME; default ./.cluster), IMGTRAIN_CLUSTER_PORT (master,
# default 7077), IMGTRAIN_CLUSTER_UI_PORT (master web UI, default 8080), IMGTRAIN_CLUSTER_WORKERS (2),
# IMGTRAIN_WORKER_CORES (1), IMGTRAIN_WORKER_MEMORY (3g).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${IMGTRAIN_CLUSTER_DIR:-$root/.cluster}
port=${IMGTRAIN_CLUSTER_PORT:-7077}
ui_port=${IMGTRAIN_CLUSTER_UI_PORT:-8080}
workers=${IMGTRAIN_CLUSTER_WORKERS:-2}
cores=${IMGTRAIN_WORKER_CORES:-1}
memory=${IMGTRAIN_WORKER_MEMORY:-3g}
# shellcheck source=bin/java17-flags.sh
. "$root/bin/java17-flags.sh"
# shellcheck source=deploy/local/common.sh
. "$root/deploy/local/common.sh"
mkdir -p "$dir/logs"
dir=$(cd "$dir" && pwd)
# SPARK_SCALA_VERSION: Spark's launcher otherwise looks for a source build to learn it when it starts executors.
export SPARK_HOME=$dir/spark-home SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS=$dir/local SPARK_SCALA_VERSION=2.12
master_url=spark://127.0.0.1:$port

spark_home() {
  if resolve_classpath "$root/deploy/local/spark-dist/pom.xml" "$dir/spark-classpath.txt" || [[ ! -d $SPARK_HOME/jars ]]; then
    lay_out_spark_home "$dir/spark-classpath.txt" "$SPARK_HOME"
  fi
}

daemon() { # name class args...
  local name=$1 cls=$2
  shift 2
  nohup java "${JAVA17_FLAGS[@]}" -Xmx512m -cp "$SPARK_HOME/conf:$SPARK_HOME/jars/*" \
    -Dlog4j2.configurationFile="$SPARK_HOME/conf/log4j2.properties" "$cls" "$@" > "$dir/logs/$name.log" 2>&1 &
  echo $! > "$dir/$name.pid"
}

workers_alive() {
  local json
  json=$(curl -sf "http://127.0.0.1:$ui_port/json/" 2>/dev/null) || { echo 0; return; }
  grep -o '"state" *: *"ALIVE"' <<<"$json" | wc -l
}

start() {
  if alive "$dir/master.pid"; then
    echo "cluster already running: $master_url ($(workers_alive) workers alive); logs in $dir/logs"
    return
  fi
  spark_home
  daemon master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port "$ui_port"
  for i in $(seq 1 "$workers"); do
    mkdir -p "$dir/work/worker-$i"
    daemon "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores "$cores" --memory "$memory" \
      --work-dir "$dir/work/worker-$i" --webui-port 0 "$master_url"
  done
  for _ in $(seq 1 120); do
    if [[ $(workers_alive) -ge $workers ]]; then
      echo "cluster running: master $master_url (web UI http://127.0.0.1:$ui_port), $workers workers x $cores core(s), $memory"
      echo "logs: $dir/logs (executors: $dir/work/worker-*/app-*/*/stderr)"
      return
    fi
    for p in "$dir"/master.pid "$dir"/worker-*.pid; do
      if ! alive "$p"; then
        echo "deploy/local/cluster.sh: $(basename "$p" .pid) exited at start; its log ends with:" >&2
        tail -n 20 "$dir/logs/$(basename "$p" .pid).log" >&2
        stop >&2
        exit 1
      fi
    done
    sleep 0.5
  done
  echo "deploy/local/cluster.sh: $workers workers did not register within 60 s; see $dir/logs" >&2
  stop >&2
  exit 1
}

stop() {
  local any=0 p
  for p in "$dir"/worker-*.pid "$dir"/master.pid; do
    stop_pidfile "$p" 10 && any=1
  done
  # Executors are the workers' children; a worker stopping kills them, a killed one may not have.
  pkill -f "CoarseGrainedExecutorBackend.*$master_url" 2>/dev/null || true
  pkill -f -- "--work-dir $dir/work/" 2>/dev/null || true
  ((any)) && echo "cluster stopped" || echo "cluster not running"
}

status() {
  if alive "$dir/master.pid"; then
    echo "master $master_url running (pid $(cat "$dir/master.pid")), web UI http://127.0.0.1:$ui_port"
    echo "workers alive: $(workers_alive)"
    echo "logs: $dir/logs"
  else
    echo "cluster not running"
    return 3
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: deploy/local/cluster.sh start|stop|status" >&2; exit 2 ;;
esac
