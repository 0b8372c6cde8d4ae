#!/usr/bin/env bash
# Configures and builds build-asan: clang with AddressSanitizer + UndefinedBehaviorSanitizer
# (float-cast-overflow named too: readers cast untrusted doubles to integers), stopping at the first
# report, and with libFuzzer's coverage hooks (fuzzer-no-link), so one build serves both the test
# suite (scripts/sanitize.sh) and the fuzz targets (scripts/fuzz.sh). Installs clang, libFuzzer and
# clang's OpenMP from Debian when missing. Arguments: targets to build (default: all).
#   bash scripts/asan-build.sh                 # everything, tests and fuzz targets included
#   bash scripts/asan-build.sh fuzz_csv        # one target
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh clang libclang-rt-dev libomp-dev
san="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all"
# -O1 keeps the suite quick and the reports' stacks readable; line tables (not full debug information)
# are all a report's file:line needs, and keep the 50 sanitized executables quick to link.
cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Sanitize -DNNLAB_BUILD_BENCH=OFF \
  -DNNLAB_BUILD_FUZZ=ON -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -gline-tables-only -fno-omit-frame-pointer $san -fsanitize=fuzzer-no-link" \
  -DCMAKE_EXE_LINKER_FLAGS_SANITIZE="$san -fsanitize=fuzzer-no-link" \
  -DCMAKE_SHARED_LINKER_FLAGS_SANITIZE="$san -fsanitize=fuzzer-no-link" >/dev/null
if [ $# -eq 0 ]; then
  cmake --build build-asan -j"$(nproc)"
else
  cmake --build build-asan -j"$(nproc)" --target "$@"
fi
