#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh machine (JDK 17, Maven, npm, fonts, Chromium), puts the real datasets
# into ./data/ with the project's real-data scripts in ../shared/datasets/ (MNIST and Fashion-MNIST, CIFAR-10 built
# from its real images), then runs every unit test (Surefire) and integration test (Failsafe) with `mvn verify`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
deploy/local/ensure-tools.sh --test
shared=../shared/datasets
for script in fetch-mnist.sh fetch-fashion-mnist.sh make-cifar10-archive.sh; do
  if [[ ! -x $shared/$script ]]; then
    echo "test.sh: $shared/$script not found: the integration tests use the real datasets that" \
         "../shared/datasets/ (beside this checkout) provides" >&2
    exit 1
  fi
done
$shared/fetch-mnist.sh data/mnist
$shared/fetch-fashion-mnist.sh data/fashion-mnist
$shared/make-cifar10-archive.sh data/cifar10
# The same real CIFAR-10 images as a class-per-folder JPEG tree (train/<class>/, test/<class>/), unpacked once.
if [[ ! -d data/cifar10-jpeg/train ]]; then
  rm -rf data/cifar10-jpeg.part && mkdir -p data/cifar10-jpeg.part
  tar -xJf $shared/cifar10-jpeg.tar.xz -C data/cifar10-jpeg.part
  mv data/cifar10-jpeg.part data/cifar10-jpeg
fi
exec mvn -B verify "$@"
