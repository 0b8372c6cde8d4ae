#!/bin/sh
# Installs the two PyTorch references of bench/run_vs_pytorch.py (docs/PERFORMANCE.md):
#   - the newest torch that pip installs from PyPI, into .venv (git-ignored; with numpy);
#   - Debian's python3-torch for /usr/bin/python3 (apt);
#   - OpenBLAS's libraries extracted from Debian's libopenblas0-pthread and libopenblas0-openmp
#     packages into BUILD/openblas, so Debian's torch can be run with them through LD_LIBRARY_PATH
#     without changing the system's BLAS (apt's python3-torch comes with the reference BLAS).
# Usage: sh bench/setup_pytorch.sh [BUILD, default build-perf]   (as root; run from the repository root)
set -eu
build=${1:-build-perf}
root=$(pwd)
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet torch numpy
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy
mkdir -p "$build/openblas"
cd "$build/openblas"
apt-get download libopenblas0-pthread libopenblas0-openmp
for v in pthread openmp; do dpkg -x libopenblas0-${v}_*.deb "$v"; done
echo "PyPI torch: $("$root/.venv/bin/python" -c 'import torch; print(torch.__version__)')"
echo "Debian torch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
