#!/usr/bin/env bash
# imgtrain bench on real MNIST (and CIFAR-10 for the ingest comparison), 3 repeats, figures in bench.json.
#   deploy/local/bench.sh [extra imgtrain bench options]
# Data: ./data/mnist (deploy/local/fetch-mnist.sh fetches it) and ./data/cifar10 (from ../shared/datasets when there).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
deploy/local/ensure-tools.sh --bench
deploy/local/fetch-mnist.sh data/mnist >/dev/null
cifar=()
if [[ ! -f data/cifar10/cifar-10-binary.tar.gz && -x ../shared/datasets/make-cifar10-archive.sh ]]; then
  ../shared/datasets/make-cifar10-archive.sh data/cifar10 >/dev/null
fi
[[ -f data/cifar10/cifar-10-binary.tar.gz ]] && cifar=(--cifar-source data/cifar10)
exec bin/imgtrain bench --source data/mnist "${cifar[@]}" --warehouse "${IMGTRAIN_BENCH_WAREHOUSE:-$root/warehouse-bench}" \
  --repeats 3 --out "${IMGTRAIN_BENCH_OUT:-$root/bench.json}" "$@"
