#!/usr/bin/env bash
# ASHA against the full search it saves (issue 28): conf/sweeps/mnist-asha.conf (27 configurations, up to 9 epochs,
# rungs at 1 and 3, eta 3) and conf/sweeps/mnist-asha-full.conf (the same 27, 9 epochs each), one after the other on
# this machine, each into a fresh warehouse holding the ingested and preprocessed MNIST (copied, untimed: only the
# trials are compared). Prints the comparison and writes it to docs/asha.json (commit, machine, figures).
#   deploy/local/asha-bench.sh [extra imgtrain sweep options; default --parallel 2]
# IMGTRAIN_ASHA_ORDER="mnist-asha-full mnist-asha" runs the full search first (the machine's speed drifts over minutes).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
deploy/local/fetch-mnist.sh data/mnist >/dev/null
work=${IMGTRAIN_ASHA_WORK:-$(mktemp -d)}
mkdir -p "$work"
opts=("$@")
((${#opts[@]})) || opts=(--parallel 2)
bin/imgtrain ingest --source data/mnist --warehouse "$work/base" >/dev/null 2>&1
bin/imgtrain preprocess --warehouse "$work/base" >/dev/null 2>&1
declare -A took
read -r -a sweeps <<<"${IMGTRAIN_ASHA_ORDER:-mnist-asha mnist-asha-full}"
for sweep in "${sweeps[@]}"; do
  rm -rf "${work:?}/$sweep"
  cp -r "$work/base" "$work/$sweep"
  start=$(date +%s.%N)
  bin/imgtrain sweep --spec "conf/sweeps/$sweep.conf" --source data/mnist --warehouse "$work/$sweep" "${opts[@]}" \
    >"$work/$sweep.log" 2>&1 || { tail -5 "$work/$sweep.log"; exit 1; }
  took[$sweep]=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "$sweep: ${took[$sweep]} s ($(grep -o 'sweep [^ ]*: [0-9]* trials.*' "$work/$sweep.log" | tail -1))"
done
python3 - "$work" "${took[mnist-asha]}" "${took[mnist-asha-full]}" "$(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty)" \
  "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "${opts[*]}" "${sweeps[*]}" <<'PY'
import json, sys, datetime
work, asha_s, full_s, commit, machine, opts = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
took_order = sys.argv[7].split()
def board(sweep):
    return json.load(open(f"{work}/{sweep}/sweeps/{sweep}/leaderboard.json"))
asha, full = board("mnist-asha"), board("mnist-asha-full")
def done(rows): return [r for r in rows if r["status"] == "done"]
best_asha, best_full = done(asha)[0], done(full)[0]
epochs_asha = sum(r["epochs"] for r in done(asha))
epochs_full = sum(r["epochs"] for r in done(full))
completed = sum(1 for r in done(asha) if r.get("outcome", "").startswith("completed"))
out = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "commit": commit,
    "machine": machine, "sweep_options": opts, "order": list(took_order),
    "trials": len(full), "asha_trials_done": len(done(asha)), "full_trials_done": len(done(full)),
    "asha_completed_trials": completed,
    "asha_best_run": best_asha["run_id"], "asha_best_val_accuracy": best_asha["final_val_accuracy"],
    "asha_best_test_accuracy": best_asha["test_accuracy"],
    "full_best_run": best_full["run_id"], "full_best_val_accuracy": best_full["final_val_accuracy"],
    "full_best_test_accuracy": best_full["test_accuracy"],
    "val_accuracy_gap_points": round(100 * (best_full["final_val_accuracy"] - best_asha["final_val_accuracy"]), 3),
    "asha_epochs": epochs_asha, "full_epochs": epochs_full, "epochs_ratio": round(epochs_asha / epochs_full, 3),
    "asha_wall_seconds": asha_s, "full_wall_seconds": full_s, "wall_ratio": round(asha_s / full_s, 3),
}
json.dump(out, open("docs/asha.json", "w"), indent=2)
print(json.dumps(out, indent=2))
PY
