#!/usr/bin/env bash
# Spark GPU resource discovery script (spark.executor.resource.gpu.discoveryScript, see conf/spark-gpu.conf):
# prints the GPUs this executor may use as Spark's ResourceInformation JSON, e.g. {"name":"gpu","addresses":["0","1"]}.
# Honours CUDA_VISIBLE_DEVICES when the node's resource manager set it.
set -euo pipefail
if [[ -n ${CUDA_VISIBLE_DEVICES:-} ]]; then
  ids=${CUDA_VISIBLE_DEVICES//,/ }
else
  ids=$(nvidia-smi --query-gpu=index --format=csv,noheader)
fi
addresses=$(for i in $ids; do printf '"%s",' "$i"; done)
echo "{\"name\":\"gpu\",\"addresses\":[${addresses%,}]}"
