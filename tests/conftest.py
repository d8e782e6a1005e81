"""Shared fixtures: the real local stack (`finemeca stack up`), or containers with FINEMECA_TESTCONTAINERS=1.

A service that does not answer FAILS the test with a message naming it; nothing is ever skipped.
Settings fixtures return the same classes the engines use (`finemeca.config`), so a test hands them
straight to a gateway, ingestor or mailer.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from hypothesis import settings
from pydantic import SecretStr

from finemeca.config import ElasticsearchSettings, MqttSettings, SmtpSettings, StompSettings
from finemeca.es import make_client
from tools.stack import probes
from tools.stack.containers import docker_available
from tools.stack.mailbox import default_mail_dir


@dataclass(frozen=True)
class Stack:
    mqtt: MqttSettings
    stomp: StompSettings
    es: ElasticsearchSettings
    smtp: SmtpSettings
    mail_dir: Path | None  # None when mail goes to a container (read it through mailpit's API)


def _auth(username: str | None, password: SecretStr | None) -> tuple[str, str] | None:
    return (username, password.get_secret_value()) if username and password else None


def _check(stack: Stack) -> Stack:
    mqtt, stomp, es, smtp = stack.mqtt, stack.stomp, stack.es, stack.smtp
    checks = {
        f"Mosquitto (MQTT {mqtt.host}:{mqtt.port})": probes.mqtt_ready(
            mqtt.host, mqtt.port, auth=_auth(mqtt.username, mqtt.password)
        ),
        f"ActiveMQ (STOMP {stomp.host}:{stomp.port})": probes.stomp_ready(
            stomp.host, stomp.port, auth=_auth(stomp.username, stomp.password)
        ),
        f"Elasticsearch ({es.url})": probes.elasticsearch_ready(
            es.url, auth=_auth(es.username, es.password), ca_file=es.ca_file
        ),
        f"SMTP ({smtp.host}:{smtp.port})": probes.smtp_ready(smtp.host, smtp.port),
    }
    down = [name for name, ok in checks.items() if not ok]
    if down:
        pytest.fail(
            f"local stack not available: {', '.join(down)} not answering. "
            "Run `finemeca stack up` (then `finemeca stack status`).",
            pytrace=False,
        )
    return stack


def _local_stack() -> Stack:
    return Stack(MqttSettings(), StompSettings(), ElasticsearchSettings(), SmtpSettings(), default_mail_dir())


def _container_stack() -> Iterator[Stack]:  # pragma: no cover - needs a Docker engine
    """Containers for the session; their addresses are exported so engine subprocesses find them too."""
    from tools.stack.containers import exported_env, running_containers

    with running_containers() as endpoints, pytest.MonkeyPatch.context() as env:
        for name, value in exported_env(endpoints).items():
            env.setenv(name, value)
        yield Stack(MqttSettings(), StompSettings(), ElasticsearchSettings(), SmtpSettings(), None)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Every service's settings, checked once per session."""
    if os.environ.get("FINEMECA_TESTCONTAINERS") == "1" and docker_available():
        for containers in _container_stack():
            yield _check(containers)
        return
    yield _check(_local_stack())


@pytest.fixture(scope="session")
def mqtt_settings(stack: Stack) -> MqttSettings:
    return stack.mqtt


@pytest.fixture(scope="session")
def stomp_settings(stack: Stack) -> StompSettings:
    return stack.stomp


@pytest.fixture(scope="session")
def es_settings(stack: Stack) -> ElasticsearchSettings:
    return stack.es


@pytest.fixture(scope="session")
def smtp_settings(stack: Stack) -> SmtpSettings:
    return stack.smtp


@pytest.fixture(scope="session")
def es(es_settings: ElasticsearchSettings) -> Iterator[Elasticsearch]:
    client = make_client(es_settings)
    yield client
    client.close()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """`test-<6 hex>` style suffixable name: use it for queues, topics, indices (lowercase, no dots)."""
    return f"test-{secrets.token_hex(3)}"


@pytest.fixture
def mailbox(stack: Stack) -> Path:
    """Folder of the `.eml` files the local SMTP sink stores; read it with `tools.stack.mailbox`."""
    if stack.mail_dir is None:
        pytest.fail("mailbox fixture needs the local SMTP sink (not available with testcontainers)")
    return stack.mail_dir


# Property-based tests (hypothesis): modest and deterministic in CI; `HYPOTHESIS_PROFILE=deep` explores more.
settings.register_profile(
    "ci", max_examples=150, derandomize=True, deadline=None, database=None, print_blob=True
)
settings.register_profile("deep", max_examples=1500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
