#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer, built in build-asan by
# scripts/asan-build.sh; the first report fails the test it happens in. Tests labelled no-sanitizer
# are left out, each with its reason next to the label in tests/CMakeLists.txt.
#   bash scripts/sanitize.sh                 # build and run every test
#   bash scripts/sanitize.sh -R Resume       # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/asan-build.sh
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
cd build-asan
echo "nnlab: sanitizers: leaving out the tests labelled no-sanitizer (install_package: its example project links the sanitized library without the sanitizer runtimes)"
ctest --output-on-failure -j"$(nproc)" -LE no-sanitizer "$@"
