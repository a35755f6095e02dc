#!/usr/bin/env bash
# Installs, with apt-get, whichever of Java 17, Maven and npm this machine lacks. Does nothing when all are present.
set -euo pipefail
need=()
if ! command -v java >/dev/null || ! java -version 2>&1 | grep -q 'version "17'; then need+=(openjdk-17-jdk-headless); fi
command -v mvn >/dev/null || need+=(maven)
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
  echo "ensure-tools: installing ${need[*]} (apt-get)" >&2
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
