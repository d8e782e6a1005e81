# syntax=docker/dockerfile:1
# One image for every Finemeca role (gateway, ingestor, alerts, mailer, status page, kibana import),
# chosen by the command: `docker run IMAGE gateway run --sensor air`.
#
# Stage 1 builds a wheel of this project and installs it into a venv; stage 2 copies only that venv
# onto a slim runtime (no compiler, no pip cache, no sources) and runs as an unprivileged user.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml ./
COPY finemeca ./finemeca
COPY sensors ./sensors
COPY gateway ./gateway
COPY ingestor ./ingestor
COPY alerts ./alerts
COPY kibana ./kibana
COPY statuspage ./statuspage
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install /wheels/*.whl \
 && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="finemeca-iot" \
      org.opencontainers.image.description="Finemeca IoT ingestion: gateway, ingestor, alerts, mailer, status page" \
      org.opencontainers.image.source="https://github.com/finemeca/iot"
RUN groupadd --system --gid 10001 finemeca \
 && useradd --system --uid 10001 --gid finemeca --home-dir /home/finemeca --create-home finemeca \
 && install -d -o finemeca -g finemeca /srv/broker-config/mosquitto /srv/broker-config/activemq
COPY --from=builder /opt/venv /opt/venv
# Broker configs and setup scripts; the `broker-config` / `es-setup` one-shots of docker-compose.yml use them.
COPY deploy /opt/finemeca/deploy
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
# Every long-running role serves /healthz on METRICS_PORT (finemeca/metrics.py); slim has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('METRICS_PORT', '9100'), timeout=4)"]
ENTRYPOINT ["finemeca"]
CMD ["--help"]
