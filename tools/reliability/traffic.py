"""Traffic for the fault suite and the soak: good simulated messages whose PUBACKs are tracked one by
one (what was acknowledged must arrive), hostile payloads, and what Elasticsearch holds at the end."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from elasticsearch import Elasticsearch, helpers
from paho.mqtt.enums import CallbackAPIVersion

from finemeca import naming
from finemeca.config import MqttSettings
from sensors.registry import get_sensor
from tools.simulate.publisher import encode

# bad input of every shape: each must end in the DLQ, never block the good messages behind it
HOSTILE: list[bytes] = [
    b"",
    b"not json",
    b"{",
    b"[]",
    b"null",
    b"42",
    b'"text"',
    b"{}",
    b'{"msgCount": "many"}',
    b'{"Time": "yesterday", "msgCount": 1}',
    b"\xff\xfe\x00garbage",
    b'{"a": ' * 200 + b"1" + b"}" * 200,
    b'{"msgCount": 1180591620717411303424}',
    b'{"msgCount": NaN}',
    b"x" * 300_000,
]


def good_messages(sensor: str, prefix: str, seed: int) -> Iterator[tuple[str, bytes, str]]:
    """(topic, payload, document id) of the sensor's simulator, endless, from a fixed start."""
    plugin = get_sensor(sensor)
    start = datetime(2024, 6, 1, tzinfo=UTC)
    for message in plugin.simulate(50, seed=seed, start=start):
        ((topic, payload),) = list(encode(sensor, [message], prefix))
        yield topic, payload, plugin.document_id(plugin.parse(message.payload))


class AckedPublisher:
    """QoS 1 publisher that knows which messages Mosquitto acknowledged; reconnects by itself."""

    def __init__(self, settings: MqttSettings) -> None:
        self.settings = settings
        self.acked: set[str] = set()
        self.sent = 0
        self._keys: dict[int, str] = {}
        self._early: set[int] = set()
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            protocol=mqtt.MQTTv311,
            clean_session=False,
            client_id=f"reliability-{time.time_ns() % 10**9}",
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_publish = self._on_publish

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, reason: object, props: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            return
        with self._lock:  # paho holds its own lock here: never call paho while holding ours
            key = self._keys.pop(mid, None)
            if key is None:
                self._early.add(mid)  # acked before publish() recorded its key
            else:
                self.acked.add(key)

    def start(self) -> AckedPublisher:
        self.client.connect_async(self.settings.host, self.settings.port, keepalive=10)
        self.client.loop_start()
        return self

    def publish(self, topic: str, payload: bytes, key: str) -> None:
        """Publish one message; `key` joins `acked` once Mosquitto acknowledged it."""
        info = self.client.publish(topic, payload, qos=1)
        with self._lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
                self.acked.add(key)
            else:
                self._keys[info.mid] = key
            self.sent += 1

    def publish_for(
        self,
        messages: Iterator[tuple[str, bytes, str]],
        rate: float,
        seconds: float,
        stop: threading.Event | None = None,
    ) -> int:
        """Publish at `rate` msg/s for `seconds`; returns how many were published."""
        started, count = time.monotonic(), 0
        while time.monotonic() - started < seconds and not (stop and stop.is_set()):
            for topic, payload, key in itertools.islice(messages, max(1, int(rate / 10))):
                self.publish(topic, payload, key)
                count += 1
            ahead = started + count / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        return count

    def wait_acked(self, timeout: float = 120.0) -> int:
        """Wait until no message awaits its PUBACK (or timeout); returns how many still wait."""
        deadline = time.monotonic() + timeout
        while self._keys and time.monotonic() < deadline:
            time.sleep(0.2)
        return len(self._keys)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def indexed_ids(es: Elasticsearch, sensor: str, prefix: str) -> list[str]:
    alias = naming.data_index_alias(sensor, prefix)
    es.indices.refresh(index=alias, ignore_unavailable=True, allow_no_indices=True)
    hits = helpers.scan(
        es, index=alias, query={"query": {"match_all": {}}, "_source": False}, ignore_unavailable=True
    )
    return [hit["_id"] for hit in hits]


def wait_indexed(es: Elasticsearch, sensor: str, prefix: str, expected: set[str], timeout: float) -> float:
    """Seconds until every expected id is searchable (or `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if expected <= set(indexed_ids(es, sensor, prefix)):
                break
        except Exception:  # Elasticsearch restarting
            pass
        time.sleep(1)
    return time.monotonic() - started
