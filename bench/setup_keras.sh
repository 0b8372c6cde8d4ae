#!/bin/sh
# Installs Keras 3 on TensorFlow from PyPI (tensorflow-cpu, keras) into .venv-keras (git-ignored), the
# course's own framework, for bench/run_course.py. Its own environment: TensorFlow and PyTorch pin
# different versions of shared packages. Usage: sh bench/setup_keras.sh   (from the repository root)
set -eu
[ -x .venv-keras/bin/python ] || python3 -m venv .venv-keras
.venv-keras/bin/pip install --quiet tensorflow-cpu keras
.venv-keras/bin/python -c 'import tensorflow as tf, keras; print("TensorFlow", tf.__version__, "Keras", keras.__version__)'
