#!/usr/bin/env bash
# Regenerates every picture of the course guide (docs/guide/img/) by running the guide's own commands,
# as listed in docs/guide/commands.txt, in order, in a fresh temporary folder.
#
#   bash scripts/guide-pictures.sh           the guide's commands at full settings (about 4 minutes
#                                            on two idle cores); pictures into docs/guide/img/
#   bash scripts/guide-pictures.sh --quick   the reduced variants the tests run (about a minute);
#                                            pictures into out/guide-img/ (not the committed ones)
#   --out DIR    write the pictures to DIR instead
#   --keep       keep the work folder: its run folders and each command's output in logs/
#
# NNLAB=path/to/nnlab picks the binary (default build/nnlab, built by scripts/quickstart.sh).
# A picture FILE.html -> NAME.png is a screenshot of the page (1100 x 2650 pixels: the top of the page) taken by headless
# Chromium (Debian's chromium, installed by scripts/deps.sh).
# Commands that read Sign Language MNIST or MNIST are skipped when `nnlab data` does not find them.
# Suggested variations (variation: yes) are not run here; tests/test_guide.cpp runs them reduced.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

quick=0 out="" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "guide-pictures.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

NNLAB_BIN=$(realpath -m "${NNLAB:-build/nnlab}")
if [ ! -x "$NNLAB_BIN" ]; then
  echo "guide-pictures.sh: no nnlab at $NNLAB_BIN: run 'bash scripts/quickstart.sh' first, or set NNLAB" >&2
  exit 1
fi
if [ -z "$out" ]; then
  if [ "$quick" = 1 ]; then out=out/guide-img; else out=docs/guide/img; fi
fi
mkdir -p "$out"
out=$(realpath "$out")

work=$(mktemp -d "${TMPDIR:-/tmp}/nnlab-guide-pictures.XXXXXX")
mkdir -p "$work/run" "$work/logs"
if [ "$keep" = 1 ]; then
  echo "work folder: $work"
else
  trap 'rm -rf "$work"' EXIT
fi

nnlab() { "$NNLAB_BIN" "$@"; }
# screenshot PAGE.html PICTURE.png: the page as a 1100-pixel-wide browser window shows its top.
screenshot() {
  local browser
  browser=$(command -v chromium || command -v chromium-browser || true)
  if [ -z "$browser" ]; then
    echo "guide-pictures.sh: no chromium for the screenshot of $1 (bash scripts/deps.sh installs it)" >&2
    exit 1
  fi
  local sandbox=()
  [ "$(id -u)" = 0 ] && sandbox=(--no-sandbox)  # Chromium refuses to run as root with its sandbox
  "$browser" --headless "${sandbox[@]}" --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/chromium" --window-size=1100,2650 --screenshot="$2" "file://$(realpath "$1")" \
    >"$work/logs/chromium.txt" 2>&1 || { cat "$work/logs/chromium.txt" >&2; exit 1; }
}
datasets=$(nnlab data list 2>&1 || true)
present() { grep -Eq "^$1 +present" <<<"$datasets"; }

n=0 ran=0 skipped=0 pictures=0
page="" guide="" test="" needs="" variation="" pics=()

run_block() {
  [ -n "$guide" ] || return 0
  n=$((n + 1))
  local cmd
  if [ "$quick" = 1 ]; then cmd=$test; else cmd=$guide; fi
  if [ "$variation" = yes ]; then
    :
  elif [ -n "$needs" ] && ! present "$needs"; then
    echo "[$n] skipped (no $needs data; see 'build/nnlab data'): $cmd"
    skipped=$((skipped + 1))
  else
    local args=${cmd#* } log
    log=$(printf '%s/logs/%02d-%s.txt' "$work" "$n" "$page")
    echo "[$n] $cmd"
    local t0=$SECONDS
    if ! (cd "$work/run" && printf '$ %s\n' "$cmd" >"$log" && eval "nnlab $args" >>"$log" 2>&1); then
      echo "guide-pictures.sh: failed: $cmd (page $page); its output:" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    echo "    done in $((SECONDS - t0))s"
    ran=$((ran + 1))
    local p
    for p in "${pics[@]}"; do
      local from=${p%% -> *} to=${p##* -> }
      if [[ "$from" == *.html && "$to" == *.png ]]; then
        screenshot "$work/run/$from" "$out/${to#img/}"
      else
        cp "$work/run/$from" "$out/${to#img/}"
      fi
      echo "    picture: $out/${to#img/}"
      pictures=$((pictures + 1))
    done
  fi
  page="" guide="" test="" needs="" variation="" pics=()
}

while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    '#'*) ;;
    '') run_block ;;
    page:*) page=${line#page: } ;;
    guide:*) guide=${line#guide: } ;;
    test:*) test=${line#test: } ;;
    needs:*) needs=${line#needs: } ;;
    variation:*) variation=${line#variation: } ;;
    picture:*) pics+=("${line#picture: }") ;;
    expect:*) ;;
    *) echo "guide-pictures.sh: docs/guide/commands.txt: cannot read '$line'" >&2; exit 1 ;;
  esac
done <"$root/docs/guide/commands.txt"
run_block

echo "ran $ran commands, skipped $skipped for missing data; $pictures pictures in $out"
