#!/usr/bin/env bash
# The README's first command: install what is missing, build, and train the default experiment
# (the course's MLP on the real Fashion-MNIST), with progress, a run folder and pictures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec ./build/nnlab train "${@:-fashion-mnist}"
