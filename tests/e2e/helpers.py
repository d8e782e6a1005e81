"""Helpers for end-to-end tests: publish over real MQTT, read back from real Elasticsearch / ActiveMQ."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch

from finemeca import naming
from finemeca.config import MqttSettings
from tools.pipeline import RoleProcess
from tools.simulate.publisher import MqttPublisher, PublishStats


def _topic_ids(payload: dict[str, Any] | bytes) -> tuple[object, object]:
    """The device's own topic ids (identity rule: topic and payload agree); 0/0 when the payload has none."""
    data: object = payload
    if isinstance(payload, bytes):
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):  # hostile bodies too
            return 0, 0
    if not isinstance(data, dict):
        return 0, 0
    ids = (data.get("idGateway", 0), data.get("idDevice", 0))
    # ids a topic cannot carry (negative, > 10 digits, not integers) go to 0/0: the payload is invalid anyway,
    # and its validation error, not the topic, is what such a test wants to see
    fit = all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 10**10 for i in ids)
    return ids if fit else (0, 0)


def publish(prefix: str, sensor: str, payloads: Iterable[dict[str, Any] | bytes]) -> int:
    """Publish each payload on its device topic with QoS 1 and wait for every PUBACK."""
    publisher = MqttPublisher(MqttSettings(topic_prefix=prefix))
    publisher.connect()
    try:
        for payload in payloads:
            body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
            publisher.publish(naming.mqtt_device_topic(sensor, *_topic_ids(payload), prefix), body)
        assert publisher.wait_for_acks(60), "Mosquitto did not acknowledge every QoS 1 publish"
        assert publisher.stats.failed == 0, publisher.stats.errors
    finally:
        publisher.close()
    return publisher.stats.sent


def count(es: Elasticsearch, index: str) -> int:
    es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
    try:
        return int(es.count(index=index)["count"])
    except Exception:
        return 0


def wait_for_count(es: Elasticsearch, index: str, expected: int, timeout: float = 60.0) -> int:
    """Wait until `index` holds `expected` documents; return what it holds then (to assert on)."""
    deadline = time.monotonic() + timeout
    n = count(es, index)
    while n < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        n = count(es, index)
    return n


def all_docs(es: Elasticsearch, index: str, size: int = 10_000) -> list[dict[str, Any]]:
    es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
    hits = es.search(index=index, size=size, sort=[{"@timestamp": "asc"}, {"msg_count": "asc"}])["hits"][
        "hits"
    ]
    return [{"_id": h["_id"], "_index": h["_index"], **h["_source"]} for h in hits]


def all_ids(es: Elasticsearch, index: str) -> list[str]:
    """Every document id (scrolls: no 10k limit)."""
    from elasticsearch.helpers import scan

    es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
    return [hit["_id"] for hit in scan(es, index=index, query={"query": {"match_all": {}}}, _source=False)]


# -- failure / scale-out tests: simulated streams, background publishing, health polling -----------------


@dataclass(frozen=True)
class Stream:
    """Simulated messages ready to publish, and the document ids they must become (exactly once each)."""

    sensor: str
    items: list[tuple[str, bytes]]
    ids: frozenset[str]


def simulated_stream(prefix: str, sensor: str, count: int, devices: int = 20, seed: int = 7) -> Stream:
    """`count` messages of `sensor`'s simulator on `prefix` topics; ids from the plugin's `document_id`."""
    from sensors.registry import get_sensor
    from tools.simulate.publisher import encode

    plugin = get_sensor(sensor)
    start = datetime(2024, 3, 1, tzinfo=UTC)  # fixed: the same ids every run
    messages = list(itertools.islice(plugin.simulate(devices, seed=seed, start=start), count))
    ids = frozenset(plugin.document_id(plugin.parse(m.payload)) for m in messages)
    assert len(ids) == count, "the simulator produced two messages with the same identity"
    return Stream(sensor, list(encode(sensor, messages, prefix)), ids)


class BackgroundPublisher:
    """Publishes a stream at a steady rate (None = as fast as possible) from a thread; counts PUBACKs."""

    def __init__(
        self, items: list[tuple[str, bytes]], rate: float | None, settings: MqttSettings | None = None
    ):
        self.items = items
        self.rate = rate
        self.publisher = MqttPublisher(settings or MqttSettings())
        self.thread = threading.Thread(target=self._run, name="e2e-publisher", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.publisher.publish_all(self.items, rate=self.rate)
            self.publisher.wait_for_acks(timeout=120)
        except BaseException as exc:  # reported by join()
            self.error = exc

    @property
    def sent(self) -> int:
        return self.publisher.stats.sent

    def start(self) -> BackgroundPublisher:
        self.publisher.connect()
        self.thread.start()
        return self

    def wait_sent(self, at_least: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.sent < at_least and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.sent >= at_least, f"publisher stuck at {self.sent} messages (wanted {at_least})"

    def join(self, timeout: float = 180.0) -> PublishStats:
        """Wait for the end; every message must have been acknowledged by Mosquitto."""
        self.thread.join(timeout)
        self.publisher.close()
        assert not self.thread.is_alive(), f"publisher still running after {timeout:.0f}s"
        if self.error:
            raise self.error
        stats = self.publisher.stats
        assert stats.acked == len(self.items), (
            f"Mosquitto acked {stats.acked}/{len(self.items)}: {stats.errors}"
        )
        return stats


def wait_for_health(
    proc: RoleProcess, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60.0
) -> dict[str, Any]:
    """Poll a role's /healthz until `predicate(state)` holds; return that state (fails on timeout)."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        state = proc.health()
        if state is not None and predicate(state):
            return state
        time.sleep(0.2)
    raise AssertionError(
        f"{proc.name}: /healthz never satisfied the condition in {timeout:.0f}s; last: {state}"
    )


def assert_exactly_once(
    es: Elasticsearch, index: str, expected: frozenset[str], timeout: float = 120.0
) -> None:
    """Every expected id indexed once: the count AND the set of ids equal the expected ones."""
    n = wait_for_count(es, index, len(expected), timeout)
    ids = all_ids(es, index)
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} ids indexed twice"
    missing, unexpected = expected - set(ids), set(ids) - expected
    assert not missing, f"{len(missing)} messages lost, e.g. {sorted(missing)[:3]}"
    assert not unexpected, f"{len(unexpected)} unexpected documents, e.g. {sorted(unexpected)[:3]}"
    assert n == len(expected) == len(ids)


def wait_for_dead_letters(prefix: str, sensor: str, expected: int, timeout: float = 60.0) -> list[Any]:
    """Browse the sensor's DLQ until it holds `expected` dead letters; return them (to assert on)."""
    from finemeca.config import StompSettings
    from ingestor.dlq import browse

    settings = StompSettings(queue_prefix=prefix)
    deadline = time.monotonic() + timeout
    letters = browse(sensor, settings, limit=100_000, idle_timeout=3)
    while len(letters) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        letters = browse(sensor, settings, limit=100_000, idle_timeout=3)
    return letters


def dead_letter_records(es: Elasticsearch, prefix: str) -> list[dict[str, Any]]:
    """Every document of the dead-letters index (what the operations dashboard counts)."""
    index = f"{prefix}-deadletters"
    es.indices.refresh(index=index, ignore_unavailable=True)
    if not es.indices.exists(index=index):
        return []
    hits = es.search(index=index, size=10_000)["hits"]["hits"]
    return [hit["_source"] for hit in hits]
