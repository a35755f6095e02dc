#!/usr/bin/env bash
# When does `imgtrain sweep --parallel N` pay off? Runs one small MNIST sweep (6 trials, 1 epoch on 3,000 examples)
# with --parallel 1 and then 2, each into a fresh warehouse, and prints both wall times and their ratio.
#   deploy/local/sweep-parallel.sh [extra imgtrain sweep options, e.g. --set train.workers=1]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
deploy/local/fetch-mnist.sh data/mnist >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/parallel.conf" <<'SPEC'
sweep {
  id = parallel
  dataset = mnist
  base { train.epochs = 1, train.max-examples = 3000, train.checkpoints = false }
  grid {
    model.updater.learning-rate = [0.0005, 0.001, 0.002]
    model.hidden = [[{units = 32, activation = relu}], [{units = 64, activation = relu}]]
  }
}
SPEC
# Ingest and preprocess once, untimed, then copy the datasets into each warehouse: only the trials are compared.
bin/imgtrain ingest --source data/mnist --warehouse "$work/base" >/dev/null 2>&1
bin/imgtrain preprocess --warehouse "$work/base" >/dev/null 2>&1
declare -A took
for n in 1 2; do
  cp -r "$work/base" "$work/wh$n"
  start=$(date +%s.%N)
  bin/imgtrain sweep --spec "$work/parallel.conf" --source data/mnist --warehouse "$work/wh$n" --parallel "$n" "$@" \
    >"$work/sweep$n.log" 2>&1 || { tail -5 "$work/sweep$n.log"; exit 1; }
  took[$n]=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "--parallel $n: ${took[$n]} s ($(tail -1 "$work/sweep$n.log"))"
done
echo "ratio parallel 2 / parallel 1: $(awk -v a="${took[1]}" -v b="${took[2]}" 'BEGIN { printf "%.3f", b / a }')"
