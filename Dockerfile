# syntax=docker/dockerfile:1
# One image for every Finemeca role (gateway, ingestor, alerts, mailer, status page, kibana import),
# chosen by the command: `docker run IMAGE gateway run --sensor air`.
#
# Stage `builder` installs the locked dependencies (deploy/image/requirements.lock, every file checked by
# its sha256) and a wheel of this project into a venv; `runtime` copies only that venv onto the same base
# (no compiler, no pip cache, no sources, no tools/) and runs as an unprivileged user. `tools` (trial
# only, ghcr.io/finemeca/iot-tools) adds the tools distribution for the simulator of the `trial` profile.
#
# PYTHON_IMAGE: the release workflow passes the digest-pinned reference of deploy/image/base-image.lock;
# `make image` passes a Debian bookworm base bootstrapped with debootstrap (deploy/image/make-image.sh).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
# Build-time only (not in the image config): the CA bundle pip trusts; `make image` mounts the host's
# bundle there for RUN steps, so a TLS-inspecting proxy of the build machine is trusted during the build.
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY deploy/image/requirements.lock ./requirements.lock
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml ./
COPY finemeca ./finemeca
COPY sensors ./sensors
COPY gateway ./gateway
COPY ingestor ./ingestor
COPY alerts ./alerts
COPY kibana ./kibana
COPY statuspage ./statuspage
COPY report ./report
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/venv/bin/pip install --no-deps /wheels/*.whl \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="finemeca-iot" \
      org.opencontainers.image.description="Finemeca IoT ingestion: gateway, ingestor, alerts, mailer, status page" \
      org.opencontainers.image.source="https://github.com/finemeca/iot" \
      org.opencontainers.image.licenses="Proprietary"
RUN groupadd --system --gid 10001 finemeca \
 && useradd --system --uid 10001 --gid finemeca --home-dir /home/finemeca --create-home finemeca
COPY --from=builder /opt/venv /opt/venv
# Broker configs and setup scripts; the `volume-init` / `es-setup` one-shots of docker-compose.yml use them.
COPY deploy/mosquitto /opt/finemeca/deploy/mosquitto
COPY deploy/activemq /opt/finemeca/deploy/activemq
COPY deploy/elasticsearch /opt/finemeca/deploy/elasticsearch
COPY deploy/certs /opt/finemeca/deploy/certs
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9100 \
    FINEMECA_REQUIRE_SECRETS=1
USER 10001:10001
WORKDIR /home/finemeca
EXPOSE 9100
# Every long-running role serves /healthz on METRICS_PORT (finemeca/metrics.py); the base has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('METRICS_PORT', '9100'), timeout=4)"]
ENTRYPOINT ["finemeca"]
CMD ["--help"]

# Trial only: the runtime plus the tools distribution (simulated sensors for the `trial` profile).
FROM builder AS tools-builder
COPY tools ./tools
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /tools-wheels ./tools

FROM runtime AS tools
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
USER 0:0
COPY --from=tools-builder /tools-wheels /tools-wheels
RUN /opt/venv/bin/pip install --no-cache-dir /tools-wheels/*.whl && rm -rf /tools-wheels
USER 10001:10001
