#!/usr/bin/env bash
# nnlab added to another project with add_subdirectory (as FetchContent does) must not impose its own
# choices: no build type, no -march=native, no precompiled headers, no tests or benchmarks; while a target that links it is
# told it needs C++20. Configures such a project (nothing is compiled) and reads the generated flags.
set -euo pipefail
source="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/app"
cat >"$tmp/app/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.21)
project(app LANGUAGES CXX)
add_subdirectory("$source" nnlab)
add_executable(app main.cpp)
target_link_libraries(app PRIVATE nnlab::nnlab)
CMAKE
echo 'int main() { return 0; }' >"$tmp/app/main.cpp"
cmake -S "$tmp/app" -B "$tmp/build" >/dev/null
fail() { echo "subproject: $*" >&2; exit 1; }
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$tmp/build/CMakeCache.txt")
[ -z "$build_type" ] || fail "nnlab set the including project's build type to '$build_type'"
for opt in NNLAB_BUILD_TESTS NNLAB_BUILD_BENCH NNLAB_NATIVE NNLAB_PCH; do
  grep -q "^$opt:BOOL=OFF" "$tmp/build/CMakeCache.txt" || fail "$opt is not OFF by default in a subproject"
done
app_flags="$tmp/build/CMakeFiles/app.dir/flags.make"
[ -f "$app_flags" ] || fail "no flags.make generated for the including project"
for layer in nnlab_core nnlab_report nnlab_app; do  # the library's layers (CMakeLists.txt)
  lib_flags="$tmp/build/nnlab/CMakeFiles/$layer.dir/flags.make"
  [ -f "$lib_flags" ] || fail "no flags.make generated for $layer"
  if grep -q -- "-march=native" "$lib_flags"; then fail "$layer compiles with -march=native in a subproject"; fi
  if grep -q -- "-O3" "$lib_flags"; then fail "$layer forced its Release flags on the including project"; fi
done
if grep -q -- "-O3" "$app_flags"; then fail "nnlab forced its Release flags on the including project"; fi
grep -qE -- "-std=(c|gnu)\+\+20" "$app_flags" || fail "a target linking nnlab is not compiled as C++20: $(grep CXX_FLAGS "$app_flags")"
[ -d "$tmp/build/nnlab/tests" ] && fail "nnlab's tests were configured in a subproject"
echo "subproject: no build type, no -march=native, no tests; the linking target is C++20"
