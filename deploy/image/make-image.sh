#!/usr/bin/env bash
# `make image`: build the Dockerfile without a Docker engine, then run every role in the image.
#
#   1. base: `localhost/finemeca-base:bookworm`, Debian bookworm + python3.11 bootstrapped with debootstrap
#      (no registry is reachable from the build machines); the root filesystem is cached in
#      .cache/image/ (never committed) and its package list written beside it (what the base holds);
#   2. `buildah bud --isolation chroot` of the Dockerfile (targets `runtime` and `tools`) on that base;
#   3. smoke tests in the image with `buildah run --isolation chroot` (tests in deploy/image/smoke.sh).
#
# Needs root (buildah/debootstrap; re-runs itself with sudo when available), installs `buildah` and `debootstrap` from Debian when missing.
# FINEMECA_BASE_IMAGE=<ref> uses an existing local base instead (e.g. the official python image
# loaded with `buildah pull docker-archive:...`).
set -euo pipefail
if [[ $(id -u) != 0 ]] && command -v sudo >/dev/null; then
  exec sudo --preserve-env=MQTT_PORT,STOMP_PORT,FINEMECA_BASE_IMAGE,DEBIAN_MIRROR "$0" "$@"  # CI runners
fi
cd "$(dirname "$0")/../.."
IMAGE=${FINEMECA_LOCAL_IMAGE:-localhost/finemeca-iot:dev}
TOOLS_IMAGE=${FINEMECA_LOCAL_TOOLS_IMAGE:-localhost/finemeca-iot-tools:dev}
BASE=${FINEMECA_BASE_IMAGE:-localhost/finemeca-base:bookworm}
CACHE=.cache/image
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What the official python:3.11-slim base provides that the Dockerfile relies on.
BASE_PACKAGES=python3,python3-venv,python-is-python3,ca-certificates,tzdata,passwd

# debootstrap mounts /proc and /sys inside the target: never delete a tree with something mounted in it.
remove_rootfs() {
  local rootfs=$1 mounts
  [[ -d $rootfs ]] || return 0
  findmnt -rn -o TARGET | grep -F "$(realpath "$rootfs")/" | sort -r | xargs -r -n1 umount -l || true
  mounts=$(findmnt -rn -o TARGET | grep -cF "$(realpath "$rootfs")/" || true)
  ((mounts == 0)) || { echo "refusing to delete $rootfs: $mounts mount(s) still inside" >&2; exit 1; }
  rm -rf --one-file-system "$rootfs"
}

step() { printf '\n== make image: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

need() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  ((${#missing[@]} == 0)) && return
  step "installing ${missing[*]} from Debian"
  [[ $(id -u) == 0 ]] || { echo "run as root or install: apt-get install ${missing[*]}" >&2; exit 2; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

build_base() {
  if buildah inspect --type image "$BASE" >/dev/null 2>&1; then
    echo "base $BASE present"
    return
  fi
  local tarball=$CACHE/debian-$SUITE-python3.tar
  if [[ ! -s $tarball ]]; then
    step "bootstrapping Debian $SUITE with $BASE_PACKAGES (debootstrap, a few minutes the first time)"
    local rootfs=$CACHE/rootfs
    remove_rootfs "$rootfs" && mkdir -p "$rootfs"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$rootfs" "$MIRROR"
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
    # shellcheck disable=SC2016  # dpkg-query's own ${...} format
    chroot "$rootfs" dpkg-query -W -f '${Package}=${Version}\n' >"$CACHE/base-packages.txt"
    tar -C "$rootfs" --numeric-owner -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
    remove_rootfs "$rootfs"
  fi
  step "importing the base into buildah as $BASE"
  local ctr
  ctr=$(buildah from scratch)
  buildah add "$ctr" "$tarball" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd python3 "$ctr"
  buildah commit --rm -q "$ctr" "$BASE" >/dev/null
  echo "python: $(grep '^python3.11=' "$CACHE/base-packages.txt" || true)"
}

need buildah debootstrap
mkdir -p "$CACHE"
build_base
for target in runtime tools; do
  tag=$IMAGE
  [[ $target == tools ]] && tag=$TOOLS_IMAGE
  step "buildah bud --target $target -> $tag"
  buildah bud --isolation chroot --network host --pull=false --format docker --layers \
    --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    --build-arg "PYTHON_IMAGE=$BASE" --target "$target" -t "$tag" .
done
step "smoke tests in $IMAGE"
bash deploy/image/smoke.sh "$IMAGE" "$TOOLS_IMAGE"
