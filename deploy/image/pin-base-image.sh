#!/usr/bin/env bash
# Pin the release base image by digest: resolve the tag of the Dockerfile's PYTHON_IMAGE on Docker Hub
# (skopeo or `docker buildx imagetools`) and write `<tag>@sha256:<digest>` into base-image.lock.
set -euo pipefail
cd "$(dirname "$0")"
tag=$(sed -n 's/^ARG PYTHON_IMAGE=//p' ../../Dockerfile)
if command -v skopeo >/dev/null; then
  digest=$(skopeo inspect --raw "docker://docker.io/library/$tag" | sha256sum | cut -d' ' -f1)
  digest=sha256:$digest
elif command -v docker >/dev/null; then
  digest=$(docker buildx imagetools inspect "$tag" --format '{{json .Manifest.Digest}}' | tr -d '"')
else
  echo "pin-base-image: needs skopeo or docker buildx" >&2
  exit 2
fi
[[ $digest == sha256:* ]] || { echo "pin-base-image: could not resolve $tag" >&2; exit 1; }
grep '^#' base-image.lock >base-image.lock.new
echo "$tag@$digest" >>base-image.lock.new
mv base-image.lock.new base-image.lock
echo "base-image.lock: $tag@$digest"
