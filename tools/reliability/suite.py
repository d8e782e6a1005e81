"""Runs the fault suite and the soak against the local stack: real processes, real brokers, real ES."""

from __future__ import annotations

import itertools
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from elasticsearch import Elasticsearch

from finemeca import naming
from finemeca.config import MqttSettings, StompSettings
from finemeca.es import make_client
from finemeca.queue_stats import QueueStatsClient
from tools.pipeline import LocalPipeline
from tools.reliability.faults import FAULTS, SOAK_FAULTS, Fault
from tools.reliability.traffic import HOSTILE, AckedPublisher, good_messages, indexed_ids, wait_indexed

SENSOR = "air"
DRAIN_TIMEOUT = 180.0
HOSTILE_KEY = "hostile:"
Progress = Callable[[str], None]


@dataclass
class Outcome:
    """What one run left behind, counted against what Mosquitto acknowledged."""

    name: str
    load: str
    published: int = 0
    acked: int = 0
    lost: int = 0
    loss_window: int = 0  # documented broker window (1 per kill -9 of Mosquitto)
    duplicated: int = 0
    stuck: int = 0
    recovery_s: float = 0.0
    hostile: int = 0
    dead_lettered: int = 0
    reconnects: int = 0
    spurious_reconnects: int = 0
    faults: list[str] = field(default_factory=list)


class Run:
    """A private namespace (topics, queues, indices) with its gateway, ingestor and publisher."""

    def __init__(self, seed: int) -> None:
        self.prefix = "rel" + uuid.uuid4().hex[:8]
        self.logs = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        env = {
            "MQTT_TOPIC_PREFIX": self.prefix,
            "STOMP_QUEUE_PREFIX": self.prefix,
            "ES_INDEX_PREFIX": self.prefix,
            "GATEWAY_CLIENT_ID": f"{self.prefix}-gateway",
            "INGESTOR_MAX_RETRY_BACKOFF_S": "2",
            "LOG_FORMAT": "json",
        }
        self.pipeline = LocalPipeline([SENSOR], self.logs, env=env)
        self.messages = good_messages(SENSOR, self.prefix, seed)
        self.publisher = AckedPublisher(MqttSettings(topic_prefix=self.prefix))
        self.es: Elasticsearch = make_client()

    def __enter__(self) -> Run:
        self.pipeline.start()
        self.publisher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.publisher.close()
        self.pipeline.stop()
        self.es.options(ignore_status=404).indices.delete(index=f"{self.prefix}-*", expand_wildcards="all")
        self.es.options(ignore_status=404).indices.delete_index_template(name=f"{self.prefix}-*")
        self.es.close()

    def hostile(self) -> int:
        topic = naming.mqtt_device_topic(SENSOR, 1, 1, self.prefix)
        for n, payload in enumerate(HOSTILE):
            self.publisher.publish(topic, payload, f"{HOSTILE_KEY}{n}")
        return len(HOSTILE)

    def settle(self, outcome: Outcome) -> None:
        """Wait for the acknowledged messages, then count lost, duplicated, stuck and reconnects."""
        self.publisher.wait_acked()
        expected = {key for key in self.publisher.acked if not key.startswith(HOSTILE_KEY)}
        outcome.published, outcome.acked = self.publisher.sent, len(expected)
        wait_indexed(self.es, SENSOR, self.prefix, expected, DRAIN_TIMEOUT)
        ids = indexed_ids(self.es, SENSOR, self.prefix)
        outcome.lost = len(expected - set(ids))
        outcome.duplicated = len(ids) - len(set(ids)) + len(set(ids) - expected - self._published_keys())
        depths = self.depths()
        outcome.stuck = depths.get(naming.data_queue(SENSOR, self.prefix).removeprefix("/queue/"), 0)
        outcome.dead_lettered = depths.get(
            naming.dead_letter_queue(SENSOR, self.prefix).removeprefix("/queue/"), 0
        )

    def _published_keys(self) -> set[str]:
        return set(self.publisher.acked) | set(self.publisher._keys.values())

    def depths(self) -> dict[str, int]:
        client = QueueStatsClient(StompSettings(queue_prefix=self.prefix))
        try:
            return {s.name: s.depth for s in client.query(f"{self.prefix}.>", f"DLQ.{self.prefix}.>")}
        finally:
            client.close()

    def disconnects(self) -> list[tuple[str, float]]:
        """(role log, unix time) of every STOMP link drop the roles logged."""
        found = []
        for log in self.logs.glob("*.log"):
            for line in log.read_text(errors="replace").splitlines():
                if '"stomp.disconnected"' in line and (m := re.search(r'"timestamp": ?"([^"]+)"', line)):
                    found.append((log.stem, _epoch(m.group(1))))
        return found


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def run_fault(fault: Fault, rate: float, seconds: float, progress: Progress, seed: int = 1) -> Outcome:
    """Steady traffic; the fault `seconds / 3` in; the counts once everything acknowledged arrived."""
    outcome = Outcome(fault.name, f"{rate:.0f} msg/s x {seconds:.0f} s", loss_window=fault.loss_window)
    with Run(seed) as run:
        stop = threading.Event()
        traffic = threading.Thread(target=run.publisher.publish_for, args=(run.messages, rate, seconds, stop))
        traffic.start()
        time.sleep(seconds / 3)
        progress(f"{fault.name}: injecting")
        injected = time.monotonic()
        fault.inject(run.pipeline, SENSOR)
        run.pipeline.wait_healthy(180)
        outcome.recovery_s = round(time.monotonic() - injected, 1)
        traffic.join()
        run.settle(outcome)
        outcome.reconnects = len(run.disconnects())
        outcome.spurious_reconnects = 0 if fault.broker_link_drop else outcome.reconnects
    progress(
        f"{fault.name}: lost {outcome.lost}, duplicated {outcome.duplicated}, stuck {outcome.stuck}, "
        f"recovered in {outcome.recovery_s} s"
    )
    return outcome


def run_suite(rate: float, seconds: float, progress: Progress) -> list[Outcome]:
    return [run_fault(fault, rate, seconds, progress, seed=i + 1) for i, fault in enumerate(FAULTS)]


def run_soak(minutes: float, rate: float, progress: Progress) -> Outcome:
    """Busy, idle and hostile phases in turn; one fault of the rotation every cycle; counts at the end."""
    outcome = Outcome(f"soak {minutes:g} min", f"{rate:.0f} msg/s busy phases")
    deadline = time.monotonic() + minutes * 60
    faults = itertools.cycle(SOAK_FAULTS)
    fault_windows: list[tuple[float, float, Fault]] = []
    with Run(seed=99) as run:
        cycle = 0
        while time.monotonic() < deadline:
            cycle += 1
            left = deadline - time.monotonic()
            run.publisher.publish_for(run.messages, rate, min(40, left))  # busy
            outcome.hostile += run.hostile()
            if time.monotonic() >= deadline - 10:
                break
            fault = next(faults)
            progress(f"cycle {cycle}: {fault.name} ({(deadline - time.monotonic()) / 60:.1f} min left)")
            start = time.time()
            fault.inject(run.pipeline, SENSOR)
            run.pipeline.wait_healthy(180)
            fault_windows.append((start, time.time() + 60, fault))
            outcome.faults.append(fault.name)
            outcome.loss_window += fault.loss_window
            run.publisher.publish_for(run.messages, rate, min(20, max(0.0, deadline - time.monotonic())))
            time.sleep(min(30, max(0.0, deadline - time.monotonic())))  # idle: heart-beats only
        run.settle(outcome)
        drops = run.disconnects()
        outcome.reconnects = len(drops)
        outcome.spurious_reconnects = sum(
            1
            for _log, at in drops
            if not any(a <= at <= b and f.broker_link_drop for a, b, f in fault_windows)
        )
    return outcome
