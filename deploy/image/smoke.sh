#!/usr/bin/env bash
# Run every role of the built image with `buildah run --isolation chroot` (no engine, no podman run):
# the CLI and each role's --help, no tools/ in the production image, the non-root user, the secrets
# policy, and /healthz of a gateway connected to the local stack (MQTT_PORT / STOMP_PORT of this shell;
# `make image` starts it first). Usage: smoke.sh IMAGE TOOLS_IMAGE
set -euo pipefail
IMAGE=$1
TOOLS_IMAGE=$2
ROLES=(gateway ingestor indices alerts mailer kibana status-page)
failures=0
ctr=$(buildah from --pull=false "$IMAGE")
tools_ctr=$(buildah from --pull=false "$TOOLS_IMAGE")
cleanup() { buildah rm "$ctr" "$tools_ctr" >/dev/null 2>&1 || true; }
trap cleanup EXIT

in_image() { buildah run --isolation chroot "$@"; }
ok() { printf '  ok    %s\n' "$1"; }
fail() { printf '  FAIL  %s\n' "$1"; failures=$((failures + 1)); }

help=$(in_image "$ctr" -- finemeca --help)
for role in "${ROLES[@]}"; do
  if grep -q "│ $role " <<<"$help" && in_image "$ctr" -- finemeca "$role" --help >/dev/null; then
    ok "finemeca $role --help"
  else
    fail "finemeca $role --help"
  fi
done
for tool in stack simulate bench demo; do
  if grep -q "│ $tool " <<<"$help"; then fail "production image offers '$tool' (tools/ must not be in it)"; fi
done
if in_image "$ctr" -- python -c "import tools" 2>/dev/null; then
  fail "the tools package is importable in the production image"
else
  ok "no tools/ in the production image"
fi
uid=$(in_image "$ctr" -- id -u)
if [[ $uid == 10001 ]]; then ok "runs as uid 10001"; else fail "runs as uid $uid, expected 10001"; fi

# Secrets policy: a placeholder password stops the role with exit 2, naming the variable, never the value.
set +e
out=$(in_image --env MQTT_PASSWORD=changeme "$ctr" -- finemeca gateway run --sensor air 2>&1)
rc=$?
set -e
if [[ $rc == 2 ]] && grep -q MQTT_PASSWORD <<<"$out" && ! grep -q changeme <<<"$out"; then
  ok "secrets check refuses MQTT_PASSWORD=changeme (exit 2)"
else
  fail "secrets check: exit $rc, output: $out"
fi

# The one-shots' scripts: first-install certificates (volume-init) and es-setup's secrets check.
if in_image "$ctr" -- python /opt/finemeca/deploy/certs/make_certs.py --out /tmp/certs --hostnames iot.example \
  | grep -q "server certificate issued"; then
  ok "volume-init's certificate helper issues a CA and server certificate"
else
  fail "deploy/certs/make_certs.py in the image"
fi
set +e
out=$(in_image --env ES_PASSWORD=changeme "$ctr" -- python /opt/finemeca/deploy/elasticsearch/setup_security.py 2>&1)
rc=$?
set -e
if [[ $rc != 0 ]] && grep -q ES_PASSWORD <<<"$out" && ! grep -q changeme <<<"$out"; then
  ok "es-setup refuses placeholder secrets before connecting"
else
  fail "es-setup secrets check: exit $rc, output: $out"
fi

# /healthz of a long-running role against the local stack (host network: chroot isolation shares it).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prefix=smoke$RANDOM
setsid buildah run --isolation chroot \
  --env MQTT_HOST=127.0.0.1 --env "MQTT_PORT=${MQTT_PORT:-1883}" --env "MQTT_TOPIC_PREFIX=$prefix" \
  --env STOMP_HOST=127.0.0.1 --env "STOMP_PORT=${STOMP_PORT:-61613}" --env "STOMP_QUEUE_PREFIX=$prefix" \
  --env METRICS_HOST=127.0.0.1 --env "METRICS_PORT=$port" --env "GATEWAY_CLIENT_ID=$prefix" \
  "$ctr" -- finemeca gateway run --sensor air >"/tmp/finemeca-smoke-$port.log" 2>&1 &
runner=$!
healthy=""
for _ in $(seq 60); do
  if health=$(python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$port/healthz', timeout=2).read().decode())" 2>/dev/null); then
    healthy=$health
    break
  fi
  sleep 1
done
kill -TERM -- "-$runner" 2>/dev/null || true
wait "$runner" 2>/dev/null || true
if [[ -n $healthy ]]; then
  ok "gateway in the image: /healthz 200 $healthy"
else
  fail "gateway in the image never answered /healthz 200 (log: /tmp/finemeca-smoke-$port.log)"
  tail -n 20 "/tmp/finemeca-smoke-$port.log" || true
fi

if in_image "$tools_ctr" -- finemeca simulate run --help >/dev/null; then
  ok "trial tools image: finemeca simulate run --help"
else
  fail "trial tools image: finemeca simulate run --help"
fi

if ((failures)); then
  echo "make image: $failures smoke check(s) failed"
  exit 1
fi
echo "make image: every smoke check passed"
