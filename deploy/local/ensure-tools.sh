#!/usr/bin/env bash
# Installs, with apt-get, whichever of Java 17, Maven, npm and fonts (Java draws the reports' charts with them) this
# machine lacks; with --test also Debian's Chromium (the tests open the generated pages in it headless) and Jupyter
# stack (the tests execute the notebooks); with --bench Debian's PyTorch and OpenBLAS (the bench's PyTorch peer; without
# libopenblas0-pthread Debian's torch uses the reference BLAS, 10x slower), and there a failed install is reported and
# not fatal: the bench then runs without the peer.
# Does nothing when all are present.
set -euo pipefail
need=()
if [[ ${1:-} == --test ]]; then
  # BenchIT runs the bench's PyTorch peer: here the packages are required.
  /usr/bin/python3 -c "import torch" 2>/dev/null || need+=(python3-torch)
  [[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]] || need+=(libopenblas0-pthread)
fi
if [[ ${1:-} == --bench ]]; then
  torch=()
  /usr/bin/python3 -c "import torch" 2>/dev/null || torch+=(python3-torch)
  [[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]] || torch+=(libopenblas0-pthread)
  if ((${#torch[@]})); then
    echo "ensure-tools: installing ${torch[*]} for the bench's PyTorch peer (apt-get)" >&2
    sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo -n"
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${torch[@]}" >/dev/null; }; then
      echo "ensure-tools: could not install ${torch[*]}; the bench runs without the PyTorch peer" >&2
    fi
  fi
fi
if [[ ${1:-} == --test ]]; then
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
  # The notebooks, executed by the tests: Debian's Jupyter stack (the python3 on PATH may be another interpreter).
  [[ -x /usr/bin/jupyter-nbconvert ]] || need+=(jupyter-nbconvert)
  for module in nbclient ipykernel pandas matplotlib; do
    /usr/bin/python3 -c "import $module" 2>/dev/null || need+=("python3-$module")
  done
fi
if ! ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf >/dev/null 2>&1 || ! command -v fc-list >/dev/null; then
  need+=(fonts-dejavu-core fontconfig)
fi
if ! command -v java >/dev/null || ! java -version 2>&1 | grep -q 'version "17'; then need+=(openjdk-17-jdk-headless); fi
command -v mvn >/dev/null || need+=(maven)
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
  echo "ensure-tools: installing ${need[*]} (apt-get)" >&2
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
