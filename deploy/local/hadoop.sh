#!/usr/bin/env bash
# A real single-node Hadoop on 127.0.0.1: HDFS (NameNode + DataNode) and YARN (ResourceManager + NodeManager), each its
# own JVM, run from the Hadoop jars Maven resolves for deploy/local/hadoop-dist/pom.xml (no Hadoop download), and a
# Spark home with YARN support from deploy/local/spark-yarn-dist/pom.xml for deploy/yarn/submit.sh.
#   deploy/local/hadoop.sh start|stop|status
#   deploy/local/hadoop.sh put LOCAL_DIR HDFS_PATH     copy a directory into HDFS (hdfs dfs -put)
#   deploy/local/hadoop.sh fs ARGS...                  any 'hdfs dfs' command, e.g. fs -ls -R /imgtrain
#   deploy/local/hadoop.sh logs APPLICATION_ID         the aggregated container logs (yarn logs -applicationId)
#   deploy/local/hadoop.sh env                         the export lines of start, for eval
# `start` ends with export lines for eval:  eval "$(deploy/local/hadoop.sh start | grep ^export)"
# Environment: IMGTRAIN_HADOOP_DIR (configuration, state, logs, Spark home; default ./.hadoop), IMGTRAIN_YARN_MEMORY_MB
# (what the NodeManager offers, default 12288), IMGTRAIN_YARN_VCORES (default 4: vcores are a scheduling count; the
# capacity scheduler places containers by memory). Ports are picked free at the first start and kept in the
# configuration, so the HDFS URI stays the same across restarts.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${IMGTRAIN_HADOOP_DIR:-$root/.hadoop}
memory_mb=${IMGTRAIN_YARN_MEMORY_MB:-12288}
vcores=${IMGTRAIN_YARN_VCORES:-4}
# shellcheck source=bin/java17-flags.sh
. "$root/bin/java17-flags.sh"
# shellcheck source=deploy/local/common.sh
. "$root/deploy/local/common.sh"
mkdir -p "$dir/logs"
dir=$(cd "$dir" && pwd)
conf=$dir/conf
spark_home=$dir/spark-home
JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
export JAVA_HOME
daemons=(namenode datanode resourcemanager nodemanager)

hadoop_cp() {
  resolve_classpath "$root/deploy/local/hadoop-dist/pom.xml" "$dir/hadoop-classpath.txt" || true
  echo "$conf:$(cat "$dir/hadoop-classpath.txt")"
}

# A Spark home as a Spark distribution lays it out: jars/, conf/, and bin/spark-submit running Spark's own launcher
# (org.apache.spark.launcher.Main, as Spark's bin/spark-class does), so driver memory and options apply in client mode.
make_spark_home() {
  if resolve_classpath "$root/deploy/local/spark-yarn-dist/pom.xml" "$dir/spark-yarn-classpath.txt" \
      || [[ ! -x $spark_home/bin/spark-submit ]]; then
    lay_out_spark_home "$dir/spark-yarn-classpath.txt" "$spark_home"
    mkdir -p "$spark_home/bin"
    cat > "$spark_home/bin/spark-submit" <<'EOF'
#!/usr/bin/env bash
# spark-submit of a Spark home made by deploy/local/hadoop.sh: Spark's launcher builds the JVM command (as bin/spark-class).
set -euo pipefail
SPARK_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export SPARK_HOME SPARK_SCALA_VERSION=2.12
runner=${JAVA_HOME:+$JAVA_HOME/bin/}java
build_command() {
  "$runner" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main org.apache.spark.deploy.SparkSubmit "$@"
  printf '%d\0' $?
}
# The launcher prints messages line by line, then a NUL line, then the command NUL-separated; read as bin/spark-class
# does (bash drops the NUL byte, so that line reads as empty).
cmd=()
delim=$'\n'
started=false
while IFS= read -d "$delim" -r arg; do
  if [[ $started == true ]]; then
    cmd+=("$arg")
  elif [[ -z $arg ]]; then
    delim=''
    started=true
  else
    echo "$arg"
  fi
done < <(build_command "$@")
last=$((${#cmd[@]} - 1))
if ((last < 0)) || [[ ${cmd[$last]} != 0 ]]; then
  exit "${cmd[$last]:-1}"
fi
exec "${cmd[@]:0:$last}"
EOF
    chmod +x "$spark_home/bin/spark-submit"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

prop() { # name value
  printf '  <property><name>%s</name><value>%s</value></property>\n' "$1" "$2"
}

site() { # file, then name value pairs
  local file=$1
  shift
  { echo '<?xml version="1.0"?>'; echo '<configuration>'
    while (($#)); do prop "$1" "$2"; shift 2; done
    echo '</configuration>'; } > "$conf/$file"
}

write_conf() {
  [[ -f $conf/core-site.xml ]] && return
  mkdir -p "$conf" "$dir/data" "$dir/nm-local" "$dir/nm-logs"
  local nn nn_http rm rm_sched rm_track rm_admin rm_web nm_loc nm_web
  nn=$(free_port); nn_http=$(free_port); rm=$(free_port); rm_sched=$(free_port); rm_track=$(free_port)
  rm_admin=$(free_port); rm_web=$(free_port); nm_loc=$(free_port); nm_web=$(free_port)
  site core-site.xml fs.defaultFS "hdfs://127.0.0.1:$nn" hadoop.tmp.dir "$dir/data/tmp" \
    hadoop.security.authentication simple
  # Closing a file waits for the NameNode to learn from the DataNode that its last block is written; HDFS's client
  # asks again after 400 ms, then 800: training's mini-batch files (100 KB each) took 0.14 s apiece, 264 s for
  # MNIST's 1,876. Here the NameNode may close a file whose last block is committed but not yet reported, and the
  # client asks again after 10 ms (clients read this file: spark-submit ships it to the containers).
  site hdfs-site.xml dfs.replication 1 \
    dfs.namenode.name.dir "$dir/data/name" dfs.datanode.data.dir "$dir/data/data" \
    dfs.namenode.rpc-bind-host 127.0.0.1 dfs.namenode.http-address "127.0.0.1:$nn_http" \
    dfs.namenode.secondary.http-address 127.0.0.1:0 \
    dfs.datanode.address 127.0.0.1:0 dfs.datanode.http.address 127.0.0.1:0 dfs.datanode.ipc.address 127.0.0.1:0 \
    dfs.datanode.hostname 127.0.0.1 dfs.client.use.datanode.hostname true dfs.datanode.use.datanode.hostname true \
    dfs.permissions.enabled false dfs.namenode.safemode.extension 0 \
    dfs.namenode.file.close.num-committed-allowed 1 dfs.client.block.write.locateFollowingBlock.initial.delay.ms 10
  # Memory is checked (the physical memory of each container's process tree), virtual memory is not: a JVM reserves
  # far more address space than it uses. The disk checker is relaxed: a nearly full disk of a developer machine would
  # otherwise mark the only NodeManager unhealthy, and no container would ever start. A NodeManager silent for 10 s
  # (it reports every second) is lost, and its containers with it (YARN's default: 10 min).
  site yarn-site.xml yarn.resourcemanager.hostname 127.0.0.1 \
    yarn.resourcemanager.bind-host 127.0.0.1 yarn.nodemanager.bind-host 127.0.0.1 \
    yarn.resourcemanager.address "127.0.0.1:$rm" yarn.resourcemanager.scheduler.address "127.0.0.1:$rm_sched" \
    yarn.resourcemanager.resource-tracker.address "127.0.0.1:$rm_track" \
    yarn.resourcemanager.admin.address "127.0.0.1:$rm_admin" yarn.resourcemanager.webapp.address "127.0.0.1:$rm_web" \
    yarn.nodemanager.hostname 127.0.0.1 yarn.nodemanager.address 127.0.0.1:0 \
    yarn.nodemanager.localizer.address "127.0.0.1:$nm_loc" yarn.nodemanager.webapp.address "127.0.0.1:$nm_web" \
    yarn.nodemanager.resource.memory-mb "$memory_mb" yarn.nodemanager.resource.cpu-vcores "$vcores" \
    yarn.scheduler.minimum-allocation-mb 512 yarn.scheduler.maximum-allocation-mb "$memory_mb" \
    yarn.scheduler.maximum-allocation-vcores "$vcores" \
    yarn.nodemanager.local-dirs "$dir/nm-local" yarn.nodemanager.log-dirs "$dir/nm-logs" \
    yarn.nodemanager.vmem-check-enabled false yarn.nodemanager.pmem-check-enabled true \
    yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage 99.5 \
    yarn.log-aggregation-enable true yarn.nodemanager.remote-app-log-dir /tmp/logs \
    yarn.log.server.url "" \
    yarn.nodemanager.delete.debug-delay-sec 600 yarn.nm.liveness-monitor.expiry-interval-ms 10000 \
    yarn.resourcemanager.scheduler.class \
    org.apache.hadoop.yarn.server.resourcemanager.scheduler.capacity.CapacityScheduler
  # One queue; the application masters (a cluster-mode driver each) may take half the memory, not the default 10 %.
  site capacity-scheduler.xml yarn.scheduler.capacity.root.queues default \
    yarn.scheduler.capacity.root.default.capacity 100 yarn.scheduler.capacity.root.default.maximum-capacity 100 \
    yarn.scheduler.capacity.maximum-am-resource-percent 0.5 yarn.scheduler.capacity.maximum-applications 100
  cat > "$conf/log4j.properties" <<'EOF'
# The daemons' log (stdout, redirected to <dir>/logs/<daemon>.log): INFO, without the per-request chatter.
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{HH:mm:ss} %-5p %c{1}: %m%n
log4j.logger.org.apache.hadoop.hdfs.server.datanode.DataNode.clienttrace=WARN
log4j.logger.org.apache.hadoop.hdfs.StateChange=WARN
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
log4j.logger.org.apache.hadoop.ipc.Server=WARN
log4j.logger.org.eclipse.jetty=WARN
# Each container's physical memory every 3 s (what YarnIT reports as the memory a run needed).
log4j.logger.org.apache.hadoop.yarn.server.nodemanager.containermanager.monitor.ContainersMonitorImpl=DEBUG
EOF
}

conf_value() { # file name
  grep -o "<name>$2</name><value>[^<]*" "$conf/$1" | sed 's/.*<value>//'
}
hdfs_uri() { conf_value core-site.xml fs.defaultFS; }
rm_web() { conf_value yarn-site.xml yarn.resourcemanager.webapp.address; }

daemon() { # name class args...
  local name=$1 cls=$2 cp
  shift 2
  cp=$(hadoop_cp)
  nohup java "${JAVA17_FLAGS[@]}" -Xmx512m -cp "$cp" -Dhadoop.log.dir="$dir/logs" -Dhadoop.home.dir="$dir" \
    -Dyarn.log.dir="$dir/logs" -Dlog4j.configuration="file:$conf/log4j.properties" \
    -Dproc_"$name" "$cls" "$@" > "$dir/logs/$name.log" 2>&1 &
  echo $! > "$dir/$name.pid"
}

# Runs a Hadoop tool class in this shell (HDFS shell, log client).
tool() {
  java "${JAVA17_FLAGS[@]}" -Xmx256m -cp "$(hadoop_cp)" -Dlog4j.configuration="file:$conf/log4j.properties" \
    -Dhadoop.root.logger=WARN,console -Dlog4j.rootLogger=WARN,console "$@"
}

# Spark's jars as one archive on HDFS (spark.yarn.archive in the Spark home's spark-defaults.conf, which
# deploy/yarn/submit.sh reads): without it every spark-submit zips SPARK_HOME/jars (about 300 MB) and uploads it, and
# each application's containers localize their own copy; with it YARN localizes the archive once per NodeManager (a
# public resource). Made again when the Spark home's jars change or HDFS lost it (a new HDFS).
spark_archive() {
  local sum name
  sum=$(ls -l "$spark_home/jars" | md5sum | cut -c1-12)
  name=/user/spark/spark-jars-$sum.zip
  if ! grep -qs "^spark.yarn.archive *$(hdfs_uri)$name\$" "$spark_home/conf/spark-defaults.conf" \
      || ! curl -sf "http://$(conf_value hdfs-site.xml dfs.namenode.http-address)/webhdfs/v1$name?op=GETFILESTATUS" \
        > /dev/null; then
    rm -f "$dir/spark-jars.zip"
    # Stored, not deflated: the jars are compressed already. The jars at the archive's root, as Spark expects.
    (cd "$spark_home/jars" && jar --create --no-manifest --no-compress --file "$dir/spark-jars.zip" ./*.jar)
    tool org.apache.hadoop.fs.FsShell -mkdir -p /user/spark
    # An archive of jars since replaced goes (300 MB each); none is in use: this runs as the cluster starts.
    tool org.apache.hadoop.fs.FsShell -rm -r -f -skipTrash '/user/spark/spark-jars-*.zip'
    tool org.apache.hadoop.fs.FsShell -put -f "$dir/spark-jars.zip" "$name"
    rm -f "$dir/spark-jars.zip"
    echo "spark.yarn.archive $(hdfs_uri)$name" > "$spark_home/conf/spark-defaults.conf"
  fi
}

env_lines() {
  echo "export HADOOP_CONF_DIR=$conf"
  echo "export SPARK_HOME=$spark_home"
}

live_nodes() {
  curl -sf "http://$(rm_web)/ws/v1/cluster/metrics" 2>/dev/null | grep -o '"activeNodes":[0-9]*' | cut -d: -f2 || echo 0
}

hdfs_ready() { # the NameNode out of safe mode with a live DataNode
  local nn_http json
  nn_http=$(conf_value hdfs-site.xml dfs.namenode.http-address)
  json=$(curl -sf "http://$nn_http/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" 2>/dev/null) || return 1
  grep -q '"NumLiveDataNodes" *: *[1-9]' <<<"$json" || return 1
  curl -sf "http://$nn_http/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo" 2>/dev/null | grep -q '"Safemode" *: *""'
}

daemon_class() {
  case $1 in
    namenode) echo org.apache.hadoop.hdfs.server.namenode.NameNode ;;
    datanode) echo org.apache.hadoop.hdfs.server.datanode.DataNode ;;
    resourcemanager) echo org.apache.hadoop.yarn.server.resourcemanager.ResourceManager ;;
    nodemanager) echo org.apache.hadoop.yarn.server.nodemanager.NodeManager ;;
  esac
}

# Starts the daemons that are not running (all of them the first time); with all four running it only reports.
start() {
  write_conf
  make_spark_home
  local d missing=0
  for d in "${daemons[@]}"; do alive "$dir/$d.pid" || missing=1; done
  if ((missing == 0)); then
    status
    echo "hdfs: $(hdfs_uri)"
    env_lines
    return
  fi
  if [[ ! -d $dir/data/name/current ]]; then
    tool org.apache.hadoop.hdfs.server.namenode.NameNode -format -nonInteractive -force > "$dir/logs/format.log" 2>&1 || {
      echo "deploy/local/hadoop.sh: formatting HDFS failed; see $dir/logs/format.log" >&2; tail -n 20 "$dir/logs/format.log" >&2; exit 1; }
  fi
  for d in "${daemons[@]}"; do
    alive "$dir/$d.pid" || daemon "$d" "$(daemon_class "$d")"
  done
  for _ in $(seq 1 240); do
    if hdfs_ready && [[ $(live_nodes) -ge 1 ]]; then
      spark_archive
      echo "hadoop running: HDFS $(hdfs_uri), YARN ResourceManager web UI http://$(rm_web) (1 NodeManager, ${memory_mb} MB, $vcores vcores)"
      echo "logs: $dir/logs (containers: $dir/nm-logs, aggregated to HDFS /tmp/logs when an application ends)"
      echo "hdfs: $(hdfs_uri)"
      env_lines
      return
    fi
    for d in "${daemons[@]}"; do
      if ! alive "$dir/$d.pid"; then
        if [[ -z ${HADOOP_SH_RETRIED:-} ]] && grep -q 'BindException' "$dir/logs/$d.log"; then
          # The ports are picked free before the daemons bind them, and another process may take one in between
          # (YarnIT saw it while the rest of the suite ran): pick them all again and start over, once.
          echo "deploy/local/hadoop.sh: $d could not bind its port (taken since it was picked); new ports, starting again" >&2
          stop >&2
          rm -f "$conf"/*-site.xml
          HADOOP_SH_RETRIED=1 start
          return
        fi
        echo "deploy/local/hadoop.sh: $d exited at start; its log ends with:" >&2
        tail -n 30 "$dir/logs/$d.log" >&2
        stop >&2
        exit 1
      fi
    done
    sleep 0.5
  done
  echo "deploy/local/hadoop.sh: HDFS and YARN not ready within 120 s; see $dir/logs" >&2
  stop >&2
  exit 1
}

stop() {
  local any=0 d
  for d in nodemanager resourcemanager datanode namenode; do
    stop_pidfile "$dir/$d.pid" 15 && any=1
  done
  # Containers are the NodeManager's children (their own process groups); a killed NodeManager may leave them.
  pkill -f -- "$dir/nm-local/" 2>/dev/null || true
  ((any)) && echo "hadoop stopped" || echo "hadoop not running"
}

status() {
  local d code=0
  for d in "${daemons[@]}"; do
    if alive "$dir/$d.pid"; then echo "$d running (pid $(cat "$dir/$d.pid"))"; else echo "$d not running"; code=3; fi
  done
  if ((code == 0)); then
    echo "HDFS $(hdfs_uri); YARN web UI http://$(rm_web); NodeManagers: $(live_nodes); logs: $dir/logs"
  fi
  return $code
}

require_running() {
  alive "$dir/namenode.pid" || { echo "deploy/local/hadoop.sh: HDFS is not running; run deploy/local/hadoop.sh start" >&2; exit 1; }
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) [[ -f $conf/core-site.xml ]] || { echo "deploy/local/hadoop.sh: not started yet" >&2; exit 1; }; env_lines ;;
  put)
    [[ $# -eq 3 ]] || { echo "usage: deploy/local/hadoop.sh put LOCAL_DIR HDFS_PATH" >&2; exit 2; }
    [[ -d $2 ]] || { echo "deploy/local/hadoop.sh put: $2: not a directory" >&2; exit 1; }
    require_running
    parent=$(dirname "$3")
    tool org.apache.hadoop.fs.FsShell -mkdir -p "$parent"
    tool org.apache.hadoop.fs.FsShell -rm -r -f -skipTrash "$3" > /dev/null
    # -put DIR PATH copies DIR as PATH when PATH does not exist (readlink: data/<name> may be a link).
    tool org.apache.hadoop.fs.FsShell -put "$(readlink -f "$2")" "$3"
    echo "copied $2 to $(hdfs_uri)$3"
    ;;
  fs) shift; require_running; tool org.apache.hadoop.fs.FsShell "$@" ;;
  logs)
    [[ $# -eq 2 ]] || { echo "usage: deploy/local/hadoop.sh logs APPLICATION_ID" >&2; exit 2; }
    require_running
    tool org.apache.hadoop.yarn.client.cli.LogsCLI -applicationId "$2"
    ;;
  *) echo "usage: deploy/local/hadoop.sh start|stop|status|env|put LOCAL_DIR HDFS_PATH|fs ARGS...|logs APPLICATION_ID" >&2; exit 2 ;;
esac
