#!/usr/bin/env bash
# Runs the README's two commands on a fresh Debian 12, as a new user would: builds a clean Debian 12
# root with mmdebstrap (--variant=apt: apt and nothing else), copies in a clean export of the checkout
# (git archive HEAD: committed files only), and inside it runs
#   1. bash scripts/quickstart.sh   on reduced settings (1 epoch on 5,000 images) so it stays short;
#   2. bash scripts/test.sh         in full;
# then scripts/interop.sh (the Python interop tests against the real PyTorch and Keras), its virtual
# environment kept on this machine in /var/cache/nnlab-interop, mounted into the root, and made while
# command 2 runs (NNLAB_INTEROP=0 leaves it out).
# Both install what they need themselves, so a missing install step fails here instead of for a user.
# Needs root (mounts, chroot) and the Debian mirror. Prints each step's time; cleans up after itself
# (mounts and the root folder) even when a step fails; exits non-zero when either command fails.
# Usage: bash scripts/fresh-machine-test.sh [--keep]   (--keep leaves the root folder for a look)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
keep=0
[ "${1:-}" = "--keep" ] && keep=1

[ "$(id -u)" -eq 0 ] || { echo "fresh-machine-test: needs root (mmdebstrap, mounts, chroot)" >&2; exit 1; }
git -C "$repo" rev-parse HEAD >/dev/null 2>&1 || { echo "fresh-machine-test: $repo is not a git checkout" >&2; exit 1; }

step_start=0
step() { step_start=$(date +%s); echo "== fresh-machine-test: $1"; }
done_step() { echo "== fresh-machine-test: $1 took $(( $(date +%s) - step_start )) s"; }

if ! command -v mmdebstrap >/dev/null; then
  step "installing mmdebstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
  done_step "installing mmdebstrap"
fi

work=$(mktemp -d /var/tmp/nnlab-fresh.XXXXXX)
root="$work/root"
interop_cache=/var/cache/nnlab-interop
interop_pid=""
cleanup() {
  local rc=$?
  if [ -n "$interop_pid" ]; then kill "$interop_pid" 2>/dev/null || true; wait "$interop_pid" 2>/dev/null || true; fi
  for m in sys dev proc "${interop_cache#/}"; do
    if mountpoint -q "$root/$m" 2>/dev/null; then umount -R "$root/$m" 2>/dev/null || umount -lR "$root/$m" || true; fi
  done
  if [ "$keep" -eq 1 ]; then
    echo "fresh-machine-test: kept $root"
  elif ! grep -q " $work/" /proc/mounts; then  # never delete through a mount still in place
    rm -rf "$work"
  else
    echo "fresh-machine-test: $work still has mounts; left in place" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The same mirrors and apt settings as this machine, so the root is what a new machine here would be.
mirrors=()
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
  [ -s "$f" ] && grep -q bookworm "$f" && mirrors+=("$f")
done
[ ${#mirrors[@]} -gt 0 ] || mirrors=(http://deb.debian.org/debian)
aptopts=()
if [ "$(apt-config dump Acquire::Check-Valid-Until --format '%v%n' 2>/dev/null)" = "false" ]; then
  aptopts+=(--aptopt='Acquire::Check-Valid-Until "false"')
fi

step "building a clean Debian 12 root (mmdebstrap --variant=apt)"
mmdebstrap --quiet --variant=apt "${aptopts[@]}" bookworm "$root" "${mirrors[@]}"
done_step "mmdebstrap"

step "copying a clean export of $(git -C "$repo" rev-parse --short HEAD) (git archive HEAD)"
mkdir -p "$root/root/nnlab"
git -C "$repo" archive HEAD | tar -x -C "$root/root/nnlab"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The network's trust, as resolv.conf is its names: behind a TLS-inspecting proxy (this project's CI
# machines) the proxy's certificate authorities, which a fresh root lacks, and pip.conf, which points
# pip at the bundle holding them. Without them the Python step of the test command cannot reach PyPI.
# Carried only where this machine has them; a machine on the open internet needs neither.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates" "$root/etc/ssl/certs"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
fi
if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$root/etc/pip.conf"; fi
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
done_step "copy"

# A login shell's clean environment: nothing of this machine's or CI's variables leaks in.
inside() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd /root/nnlab && $1"
}

failed=0
step "README command 1: bash scripts/quickstart.sh (reduced: 1 epoch, 5,000 images)"
if inside "bash scripts/quickstart.sh fashion-mnist --epochs 1 --limit 5000 --out runs/fresh"; then
  for f in config.json history.csv model.safetensors loss.svg accuracy.svg confusion.csv result.json; do
    [ -s "$root/root/nnlab/runs/fresh/$f" ] || { echo "fresh-machine-test: the quick start left no runs/fresh/$f" >&2; failed=1; }
  done
else
  echo "fresh-machine-test: README command 1 (bash scripts/quickstart.sh) FAILED" >&2
  failed=1
fi
done_step "README command 1"

if [ "${NNLAB_INTEROP:-1}" != 0 ]; then  # PyTorch and Keras download while command 2 builds and tests
  mkdir -p "$interop_cache" "$root$interop_cache"
  mount --bind "$interop_cache" "$root$interop_cache"
  inside "NNLAB_INTEROP_VENV=$interop_cache/venv bash scripts/interop.sh --prepare" >"$work/interop-prepare.log" 2>&1 &
  interop_pid=$!
fi

step "README command 2: bash scripts/test.sh"
if ! inside "bash scripts/test.sh"; then
  echo "fresh-machine-test: README command 2 (bash scripts/test.sh) FAILED" >&2
  failed=1
fi
done_step "README command 2"

if [ -n "$interop_pid" ]; then
  step "interop: bash scripts/interop.sh (PyTorch and Keras)"
  wait "$interop_pid" || true
  interop_pid=""
  cat "$work/interop-prepare.log"
  if [ "$failed" -eq 0 ] && ! inside "NNLAB_INTEROP_VENV=$interop_cache/venv bash scripts/interop.sh"; then
    echo "fresh-machine-test: the interop tests (scripts/interop.sh) FAILED" >&2
    failed=1
  fi
  done_step "interop"
fi

if [ "$failed" -ne 0 ]; then
  echo "fresh-machine-test: FAILED on a fresh Debian 12" >&2
  exit 1
fi
echo "fresh-machine-test: both README commands passed on a fresh Debian 12"
