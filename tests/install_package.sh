#!/usr/bin/env bash
# Installs nnlab from the build tree into a temporary prefix, builds examples/ against it with
# find_package(nnlab), and runs the XOR example (which exits non-zero unless all four are right).
set -euo pipefail
build="$1"; source="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$source/examples" -B "$tmp/examples" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/examples" -j2 >/dev/null
"$tmp/examples/xor"
