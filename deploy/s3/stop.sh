#!/usr/bin/env bash
# Stops the S3Proxy that deploy/s3/start.sh started (same IMGTRAIN_S3_DIR). Its data stays in $IMGTRAIN_S3_DIR/data.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dir=${IMGTRAIN_S3_DIR:-$root/.s3}
pidfile=$dir/s3proxy.pid
if [[ ! -f $pidfile ]]; then
  echo "S3Proxy not running (no $pidfile)"
  exit 0
fi
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  echo "S3Proxy (pid $pid) stopped"
else
  echo "S3Proxy (pid $pid) was not running"
fi
rm -f "$pidfile"
