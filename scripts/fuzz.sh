#!/usr/bin/env bash
# Fuzzes every reader of untrusted bytes with libFuzzer (clang, with AddressSanitizer and
# UndefinedBehaviorSanitizer): IDX (plain and gzip), CSV, safetensors models, checkpoints, .nnds,
# TOML and JSON experiments, history.csv. Builds in build-asan (scripts/asan-build.sh, which the
# sanitizer run shares), makes the seed corpora
# (scripts/fuzz-corpus.sh), then runs each target for FUZZ_SECONDS (30 by default, as CI does), as
# many at once as there are cores. A crash, sanitizer report, timeout or over-limit allocation fails
# the script and leaves the input in build-asan/fuzz-crashes/; turn it into a regression test (see
# docs/RELIABILITY.md). The corpora grow in build-asan/fuzz-corpus/ from one run to the next.
#   bash scripts/fuzz.sh                          # every target, 30 s each
#   FUZZ_SECONDS=3600 bash scripts/fuzz.sh csv    # one target for an hour
#   build-asan/fuzz/fuzz_csv build-asan/fuzz-crashes/csv-crash-...   # replay one input
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx csv safetensors checkpoint nnds experiment history onnx)
bash scripts/asan-build.sh nnlab_cli $(printf 'fuzz_%s ' "${targets[@]}")
bash scripts/fuzz-corpus.sh build-asan/fuzz-seeds build-asan/nnlab
mkdir -p build-asan/fuzz-crashes build-asan/fuzz-logs
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export OMP_NUM_THREADS=1
run_one() {  # target seconds
  local t=$1 s=$2
  mkdir -p "build-asan/fuzz-corpus/$t"
  if build-asan/fuzz/"fuzz_$t" -max_total_time="$s" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="build-asan/fuzz-crashes/$t-" \
       "build-asan/fuzz-corpus/$t" "build-asan/fuzz-seeds/$t" >"build-asan/fuzz-logs/$t.log" 2>&1; then
    echo "fuzz_$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "build-asan/fuzz-logs/$t.log" | grep -o '[0-9]*$') inputs in ${s} s, no finding"
  else
    echo "fuzz_$t: FOUND A PROBLEM (build-asan/fuzz-logs/$t.log):"
    grep -E "ERROR|SUMMARY|nnlab fuzz|Test unit written|^    #[0-9] " "build-asan/fuzz-logs/$t.log" | head -40
    return 1
  fi
}
export -f run_one
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c "run_one {} $seconds"
