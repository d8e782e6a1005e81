"""The same four services as Docker containers (testcontainers), for machines with a Docker engine.

Used by `tests/conftest.py` when `FINEMECA_TESTCONTAINERS=1`. Mosquitto and ActiveMQ get the configuration
files the local stack renders (deep MQTT queues, STOMP connector, per-queue DLQs), so behaviour matches.
Not exercised on the Docker-less development machines.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tools.stack import probes
from tools.stack.config_files import render

MOSQUITTO_IMAGE = "eclipse-mosquitto:2.0"
ACTIVEMQ_IMAGE = "apache/activemq-classic:5.18.6"
ELASTICSEARCH_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch:8.19.4"
MAILPIT_IMAGE = "axllent/mailpit:latest"


@dataclass(frozen=True)
class Endpoints:
    mqtt: tuple[str, int]
    stomp: tuple[str, int]
    es_url: str
    smtp: tuple[str, int]


def docker_available() -> bool:
    """True when a Docker engine answers (testcontainers' docker client is installed with the dev extra)."""
    try:
        import docker  # lazy: optional heavy dependency (dev extra), only when containers are asked for

        return bool(docker.from_env(timeout=5).ping())
    except Exception:  # no socket, no permission, no package: all mean "use the local stack"
        return False


def exported_env(endpoints: Endpoints) -> dict[str, str]:
    """Variables that point engines started as subprocesses (gateway, ingestor...) at the containers."""
    return {
        "MQTT_HOST": endpoints.mqtt[0],
        "MQTT_PORT": str(endpoints.mqtt[1]),
        "STOMP_HOST": endpoints.stomp[0],
        "STOMP_PORT": str(endpoints.stomp[1]),
        "ES_URL": endpoints.es_url,
        "SMTP_HOST": endpoints.smtp[0],
        "SMTP_PORT": str(endpoints.smtp[1]),
    }


@contextmanager
def running_containers(timeout: float = 180.0) -> Iterator[Endpoints]:  # pragma: no cover - needs Docker
    # lazy: optional heavy dependency (dev extra), only when containers are asked for
    from testcontainers.community.elasticsearch import ElasticSearchContainer
    from testcontainers.core.container import DockerContainer

    with tempfile.TemporaryDirectory(prefix="finemeca-containers-") as tmp, ExitStack() as stack:
        conf = Path(tmp)
        render("mosquitto.conf.j2", conf / "mosquitto.conf", host="0.0.0.0", port=1883, run_as="mosquitto",
               data_dir="/mosquitto/data", max_inflight=1000)  # fmt: skip
        render("activemq.xml.j2", conf / "activemq.xml", host="0.0.0.0", stomp_port=61613, openwire_port=61616,
               data_dir="/opt/apache-activemq/data", tmp_dir="/opt/apache-activemq/data/tmp",
               memory_limit="256 mb", store_limit="8 gb", temp_limit="1 gb")  # fmt: skip
        conf.chmod(0o755)

        mosquitto = stack.enter_context(
            DockerContainer(MOSQUITTO_IMAGE)
            .with_exposed_ports(1883)
            .with_volume_mapping(str(conf / "mosquitto.conf"), "/mosquitto/config/mosquitto.conf")
        )
        activemq = stack.enter_context(
            DockerContainer(ACTIVEMQ_IMAGE)
            .with_exposed_ports(61613)
            .with_volume_mapping(str(conf / "activemq.xml"), "/opt/apache-activemq/conf/activemq.xml")
        )
        elasticsearch = stack.enter_context(ElasticSearchContainer(ELASTICSEARCH_IMAGE, mem_limit="2g"))
        mailpit = stack.enter_context(DockerContainer(MAILPIT_IMAGE).with_exposed_ports(1025))

        def address(container: DockerContainer, port: int) -> tuple[str, int]:
            return container.get_container_host_ip(), int(container.get_exposed_port(port))

        endpoints = Endpoints(
            mqtt=address(mosquitto, 1883),
            stomp=address(activemq, 61613),
            es_url="http://{}:{}".format(*address(elasticsearch, 9200)),
            smtp=address(mailpit, 1025),
        )
        _wait_for(lambda: probes.mqtt_ready(*endpoints.mqtt), "mosquitto", timeout)
        _wait_for(lambda: probes.stomp_ready(*endpoints.stomp), "activemq", timeout)
        _wait_for(lambda: probes.elasticsearch_ready(endpoints.es_url), "elasticsearch", timeout)
        _wait_for(lambda: probes.smtp_ready(*endpoints.smtp), "mailpit", timeout)
        yield endpoints


def _wait_for(ready: Callable[[], bool], name: str, timeout: float) -> None:  # pragma: no cover
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} container not ready after {timeout:.0f}s")
        time.sleep(1.0)
