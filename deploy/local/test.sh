#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine (JDK 17, Maven, npm), fetches real MNIST into
# ./data/mnist, then runs every unit test (Surefire) and integration test (Failsafe) with `mvn verify`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
deploy/local/ensure-tools.sh
if [[ -x ../shared/datasets/fetch-mnist.sh ]]; then
  ../shared/datasets/fetch-mnist.sh data/mnist
else
  deploy/local/fetch-mnist.sh data/mnist
fi
exec mvn -B verify "$@"
