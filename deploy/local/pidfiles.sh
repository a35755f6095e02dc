# shellcheck shell=bash
# Pid-file helpers sourced by deploy/local/cluster.sh and deploy/local/hadoop.sh.

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
