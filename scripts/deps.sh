#!/usr/bin/env bash
# Installs the Debian packages nnlab needs, and any named as arguments, only those that are missing.
# Safe to run repeatedly.
set -euo pipefail
packages=(g++ cmake make libdnnl-dev ocl-icd-opencl-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libmuparser-dev
          zlib1g-dev libgtest-dev libbenchmark-dev dataset-fashion-mnist
          libonnx-dev libprotobuf-dev  # ONNX export and import (src/io/onnx*.cpp): ONNX's protobuf classes
          libopenmpi-dev openmpi-bin   # data-parallel training (src/dist/, NNLAB_MPI) and its mpirun tests
          chromium   # chromium: tests/test_report.cpp checks report.html in a headless browser
          python3-venv python3-dev)  # the Python package's tests (scripts/test.sh) and pip install .
packages+=("$@")  # more for one script (scripts/fuzz.sh: clang and libFuzzer)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "nnlab: installing missing packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "nnlab: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
