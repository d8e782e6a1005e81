"""Fixtures for end-to-end tests: a private namespace (topic/queue/index prefix) and real processes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from finemeca.config import ElasticsearchSettings
from finemeca.es import make_client
from tools.pipeline import LocalPipeline, free_port


@pytest.fixture(scope="session", autouse=True)
def _stack_answers(stack: object) -> None:
    """Every e2e test needs the whole local stack: the root `stack` fixture fails loudly if a part is down."""


@pytest.fixture
def prefix() -> str:
    """A private namespace: topics, queues and indices of one test never meet another's."""
    return "e2e" + uuid.uuid4().hex[:8]


@pytest.fixture
def es_client(es_settings: ElasticsearchSettings) -> Iterator[Elasticsearch]:
    """A fresh client per test: the failure tests stop Elasticsearch, and a shared client would carry
    the dead-node backoff into the next test."""
    client = make_client(es_settings.model_copy(update={"request_timeout": 60.0}))
    yield client
    client.close()


@pytest.fixture
def start_pipeline(
    prefix: str, tmp_path: Path, es_client: Elasticsearch
) -> Iterator[Callable[..., LocalPipeline]]:
    started: list[LocalPipeline] = []

    def start(sensors: list[str], gateways: int = 1, ingestors: int = 1, **env: str) -> LocalPipeline:
        pipeline = LocalPipeline(
            sensors,
            tmp_path / f"logs-{len(started)}",
            env={
                "MQTT_TOPIC_PREFIX": prefix,
                "STOMP_QUEUE_PREFIX": prefix,
                "ES_INDEX_PREFIX": prefix,
                "GATEWAY_CLIENT_ID": "",
                **env,
            },
            gateways=gateways,
            ingestors=ingestors,
        )
        for proc in pipeline.processes:  # stable but private MQTT client ids
            if proc.role == "gateway":
                proc.env["GATEWAY_CLIENT_ID"] = f"{prefix}-{proc.name}"
        started.append(pipeline)
        pipeline.start()
        return pipeline

    yield start
    for pipeline in started:
        pipeline.stop()
        for proc in pipeline.processes:
            print(f"--- {proc.name} log tail ---")
            print("\n".join(proc.log_path.read_text(errors="replace").splitlines()[-15:]))
    es_client.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    es_client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")


# -- a second stack instance in secure mode (test_secure_pipeline.py) -------------------------------------

SECURE_SERVICES = ["mosquitto", "activemq", "elasticsearch", "smtp"]


@pytest.fixture(scope="session")
def secure_stack() -> Iterator[dict[str, str]]:
    """Mosquitto, ActiveMQ, Elasticsearch and the SMTP sink with auth (+ MQTT and ES over TLS) on their own
    ports and STACK_DIR.

    Yields the client environment: the instance's `secure.env` plus the non-default ports. Stopped by its
    own `down` at the end of the session; the shared stack on the default ports is never touched.
    """
    from tools.stack import down, secure, up
    from tools.stack.settings import REPO_ROOT, StackSettings

    settings = StackSettings(
        dir=REPO_ROOT / "var" / "e2e-secure-stack",
        # free ports: several worktrees run this suite on one machine at the same time
        mqtt_port=free_port(),
        stomp_port=free_port(),
        openwire_port=free_port(),
        es_port=free_port(),
        es_transport_port=free_port(),
        smtp_port=free_port(),
        secure=True,  # password generated on the first run, then kept in its secure.env (ES stores it)
        STACK_ES_HEAP="512m",
        activemq_heap="256m",
    )
    try:
        up(SECURE_SERVICES, settings)
        env = dict(
            line.split("=", 1)
            for line in secure.env_file(settings).read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        yield {
            **env,
            "MQTT_PORT": str(settings.mqtt_port),
            "STOMP_PORT": str(settings.stomp_port),
            "SMTP_PORT": str(settings.smtp_port),
            "MAIL_DIR": str(settings.service_dir("mail")),
        }
    finally:
        down(SECURE_SERVICES, settings)
