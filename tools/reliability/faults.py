"""The faults the suite and the soak inject into a running pipeline and the local stack."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tools.pipeline import LocalPipeline
from tools.stack import kill_service, paused_service, start_service, stop_service


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[LocalPipeline, str], None]  # (pipeline, sensor): returns once the fault was undone
    broker_link_drop: bool = False  # the fault itself drops STOMP links: reconnects are expected
    # PUBACKed messages it may lose: Mosquitto's PUBACK leaves before the save that follows it
    loss_window: int = 0


def _kill_role(role: str) -> Callable[[LocalPipeline, str], None]:
    def inject(pipeline: LocalPipeline, sensor: str) -> None:
        proc = pipeline.get(role, sensor)
        proc.kill()
        proc.start()
        pipeline.wait_healthy(120, procs=[proc])

    return inject


def _kill_mosquitto(pipeline: LocalPipeline, sensor: str) -> None:
    kill_service("mosquitto")
    start_service("mosquitto")


def _kill_mosquitto_gateway_offline(pipeline: LocalPipeline, sensor: str) -> None:
    gateway = pipeline.get("gateway", sensor)
    gateway.stop()
    time.sleep(5)  # messages pile up in the offline session
    kill_service("mosquitto")
    start_service("mosquitto")
    gateway.start()
    pipeline.wait_healthy(120, procs=[gateway])


def _elasticsearch_down(pipeline: LocalPipeline, sensor: str) -> None:
    stop_service("elasticsearch")
    time.sleep(20)
    start_service("elasticsearch")


def _activemq_restart(pipeline: LocalPipeline, sensor: str) -> None:
    stop_service("activemq")
    start_service("activemq")


def _activemq_stall(pipeline: LocalPipeline, sensor: str) -> None:
    with paused_service("activemq"):
        time.sleep(15)


FAULTS = [
    Fault("kill -9 gateway", _kill_role("gateway")),
    Fault("kill -9 ingestor", _kill_role("ingestor")),
    Fault("kill -9 Mosquitto", _kill_mosquitto, loss_window=1),
    Fault("kill -9 Mosquitto, gateway offline", _kill_mosquitto_gateway_offline, loss_window=1),
    Fault("Elasticsearch stopped 20 s", _elasticsearch_down),
    Fault("ActiveMQ restart", _activemq_restart, broker_link_drop=True),
    Fault("ActiveMQ frozen 15 s (SIGSTOP)", _activemq_stall),
]
_SOAK_ORDER = [
    "ActiveMQ restart",
    "kill -9 Mosquitto",
    "kill -9 ingestor",
    "kill -9 gateway",
    "Elasticsearch stopped 20 s",
]
SOAK_FAULTS = [next(f for f in FAULTS if f.name == name) for name in _SOAK_ORDER]
