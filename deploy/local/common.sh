# shellcheck shell=bash
# Helpers sourced by deploy/local/cluster.sh and deploy/local/hadoop.sh (both set $root, the checkout).

# Whether the process named by pid file $1 is running.
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stops the process of pid file $1 (TERM, then KILL after $2 seconds) and removes the file; true when it was running.
stop_pidfile() {
  local p=$1 was=1
  [[ -f $p ]] || return 1
  if alive "$p"; then
    kill "$(cat "$p")" && was=0
    for _ in $(seq 1 $(($2 * 4))); do alive "$p" || break; sleep 0.25; done
    alive "$p" && kill -9 "$(cat "$p")"
  fi
  rm -f "$p"
  return $was
}

# Writes the jars of pom $1 as a class path to file $2 when $2 is missing or older than that pom or the parent pom
# (whose versions it inherits); true when it resolved them now.
resolve_classpath() {
  if [[ -f $2 && ! $root/pom.xml -nt $2 && ! $1 -nt $2 ]]; then
    return 1
  fi
  echo "resolving $(basename "$(dirname "$1")") (mvn dependency:build-classpath)" >&2
  mvn -B -q -f "$1" dependency:build-classpath -Dmdep.outputFile="$2.new" >&2
  mv "$2.new" "$2"
}

# Lays out Spark home $2 as a distribution does, from the jars of class path file $1: jars/ (links) and conf/ with
# imgtrain's log configuration. Replaces what was there.
lay_out_spark_home() {
  rm -rf "$2"
  mkdir -p "$2/jars" "$2/conf"
  # The file has no final newline: read the last entry too.
  tr ':' '\n' < "$1" | while read -r jar || [[ -n $jar ]]; do ln -sf "$jar" "$2/jars/"; done
  cp "$root/conf/log4j2.properties" "$2/conf/log4j2.properties"
}
