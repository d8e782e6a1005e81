"""Mosquitto's intake while a backlog builds, for several autosave settings (`finemeca bench front-door`).

Mosquitto 2.0 rewrites its whole store at each save; with `autosave_on_changes` a save comes every N
queued messages, so the cost of taking one message grows with what is already queued. A backlog builds
whenever the consumer cannot forward (ActiveMQ or the gateway down, or a consumer slower than the
publishers). Each setting gets a private Mosquitto (own port and folder) with an offline persistent
session; messages are published to it in equal steps, and each step's PUBACKed rate is recorded.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from finemeca.config import MqttSettings
from tools.bench import sections
from tools.pipeline import free_port
from tools.reliability.mqtt_durability import TOPIC, OfflineSession
from tools.simulate.publisher import MqttPublisher
from tools.stack.mosquitto import Mosquitto
from tools.stack.settings import StackSettings

SECTION_TITLE = "## Front door: Mosquitto's intake while a backlog builds"
SECTION_FILE = Path(__file__).with_name("front_door.md")  # kept beside the code, embedded in the report

Progress = Callable[[int, int, int], None]  # (autosave changes, queued so far, total)


@dataclass(frozen=True)
class BacklogStep:
    queued: int  # messages queued for the offline session at the end of the step
    rate: float  # messages PUBACKed per second during the step


def measure(
    autosave_changes: int,
    messages: int,
    steps: int,
    work_dir: Path,
    payload_bytes: int = 300,
    progress: Progress | None = None,
) -> list[BacklogStep]:
    """Publish `messages` in `steps` equal steps to a private Mosquitto saving every `autosave_changes`."""
    shutil.rmtree(work_dir, ignore_errors=True)
    stack = StackSettings(dir=work_dir, mqtt_port=free_port(), mosquitto_autosave_changes=autosave_changes)
    broker = Mosquitto(stack)
    settings = MqttSettings(host=stack.host, port=stack.mqtt_port)
    session = OfflineSession(settings, f"front-door-{stack.mqtt_port}")
    per_step = messages // steps
    filler = b"x" * max(0, payload_bytes - 12)
    results: list[BacklogStep] = []
    try:
        broker.start()
        broker.wait_ready(30)
        session.connect()
        session.subscribe()
        session.close()  # from now on everything published is queued for it
        with MqttPublisher(settings) as publisher:
            for step in range(steps):
                started = time.monotonic()
                first = step * per_step
                publisher.publish_all((TOPIC, b"%010d|" % i + filler) for i in range(first, first + per_step))
                if not publisher.wait_for_acks(600):
                    raise RuntimeError(
                        f"Mosquitto (autosave every {autosave_changes}) acknowledged "
                        f"{publisher.stats.acked:,}/{first + per_step:,} messages in 600 s"
                    )
                results.append(BacklogStep(first + per_step, per_step / (time.monotonic() - started)))
                if progress:
                    progress(autosave_changes, first + per_step, per_step * steps)
    finally:
        broker.stop()
        shutil.rmtree(work_dir, ignore_errors=True)
    return results


def markdown_section(results: dict[int, list[BacklogStep]], command: str) -> str:
    settings = sorted(results)
    header = " | ".join(f"saves every {changes:,} changes, msg/s" for changes in settings)
    rows = []
    for i, step in enumerate(results[settings[0]]):
        rates = " | ".join(f"{results[changes][i].rate:,.0f}" for changes in settings)
        rows.append(f"| {step.queued:,} | {rates} |")
    return "\n".join(
        [
            SECTION_TITLE,
            "",
            f"`{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. A private Mosquitto per setting, an offline",
            "persistent session, QoS 1 messages of 300 bytes published in equal steps by one connection; the",
            "rate is what Mosquitto PUBACKed during each step. Each save rewrites the whole store, so with a",
            "backlog every message costs more: this is how fast the front door still takes messages while",
            "ActiveMQ or the gateway is down, or while the consumer lags.",
            "",
            f"| messages queued | {header} |",
            "|---:|" + "---:|" * len(settings),
            *rows,
            "",
        ]
    )


def write_section(section: str, output: Path) -> None:
    sections.write_section(section, SECTION_TITLE, SECTION_FILE, output)
