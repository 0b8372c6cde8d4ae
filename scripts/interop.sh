#!/usr/bin/env bash
# The interop tests (python/tests/test_interop.py) with the real PyTorch and Keras: nnlab's weights in
# an equivalent torch nn.Sequential and keras.Sequential predict the same, and Keras's weights in nnlab.
# They are large (torch from PyPI brings its CUDA libraries: 6.8 GB installed), so they live in a virtual
# environment outside the checkout, made once and reused: $NNLAB_INTEROP_VENV, by default
# ~/.cache/nnlab/interop-venv (CI's fresh-machine test mounts the host's copy). Needs the module built
# in build/ (bash scripts/test.sh builds it). Without PyPI and no venv yet it says so and exits 0: these
# tests are never in the way of the test command. A test that runs and fails, or one that skips because
# the venv lacks a package, fails this script.
#   bash scripts/interop.sh            # make the venv if needed, then run the tests
#   bash scripts/interop.sh --prepare  # only make the venv (CI does it while the other tests run)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${NNLAB_INTEROP_VENV:-${HOME:-/root}/.cache/nnlab/interop-venv}"
packages=(numpy pytest safetensors torch==2.15.0 tensorflow-cpu==2.21.0 keras==3.15.1)
t0=$SECONDS
if [ ! -f "$venv/.complete" ]; then
  echo "interop: making $venv (${packages[*]})"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! { python3 -m venv "$venv" && "$venv/bin/python" -m pip install -q --disable-pip-version-check "${packages[@]}"; }; then
    echo "interop: could not install ${packages[*]} from PyPI; the interop tests did not run" >&2
    rm -rf "$venv"
    exit 0
  fi
  touch "$venv/.complete"
  echo "interop: virtual environment ready in $((SECONDS - t0)) s"
fi
[ "${1:-}" = "--prepare" ] && exit 0
ls build/python/_nnlab*.so >/dev/null 2>&1 || { echo "interop: no module in build/python; run bash scripts/test.sh first" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! env PYTHONPATH="$PWD/python:$PWD/build/python" PYTHONDONTWRITEBYTECODE=1 TF_CPP_MIN_LOG_LEVEL=2 \
  "$venv/bin/python" -m pytest -q -rs -p no:cacheprovider python/tests/test_interop.py 2>&1 | tee "$log"; then
  echo "interop: FAILED" >&2
  exit 1
fi
if grep -q "skipped" "$log"; then
  echo "interop: a test skipped although $venv should hold torch and keras" >&2
  exit 1
fi
echo "interop: passed in $((SECONDS - t0)) s"
