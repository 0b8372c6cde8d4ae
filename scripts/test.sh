#!/usr/bin/env bash
# The README's second command: install what is missing, build, and run every test through ctest: the
# C++ tests and the Python package's tests (python/tests, pytest, as the ctest test python_tests).
# Python: a virtual environment in build/python-venv (Debian's python3-venv) with numpy, pytest,
# nanobind and safetensors from PyPI, and onnx and onnxruntime for the test onnx_runtime (nnlab's ONNX
# files in ONNX Runtime); the module is built in the same build/ (-DNNLAB_PYTHON=ON), so only its one
# source file compiles beyond the library. NNLAB_PYTHON=0 leaves Python out (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
python_args=(-DNNLAB_PYTHON=OFF)
if [ "${NNLAB_PYTHON:-1}" != 0 ]; then
  bash scripts/deps.sh
  venv=build/python-venv
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check numpy pytest nanobind safetensors onnx onnxruntime
  python_args=(-DNNLAB_PYTHON=ON "-DPython_EXECUTABLE=$PWD/$venv/bin/python")
fi
bash scripts/build.sh "${python_args[@]}"
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
