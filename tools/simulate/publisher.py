"""Publishes simulated sensor messages to MQTT (QoS 1) at a target rate and counts the PUBACKs.

Reused by `finemeca simulate`, the demo and the benchmark. Built for high rates (>= 10,000 msg/s on
a laptop core): paho's network thread does the I/O, the caller's thread only enqueues, pacing is by
batches (one sleep per ~20 ms slice, never per message) and acks are counted in the callback.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from finemeca.config import MqttSettings
from finemeca.errors import TransientError
from finemeca.naming import mqtt_device_topic
from sensors.base import SimulatedMessage

T = TypeVar("T")

# Unacked messages allowed in flight. paho's own inflight limit rescans its whole message queue on
# every PUBACK (quadratic: ~900 msg/s at 50k queued), so paho runs unlimited and we keep this window
# ourselves; it also stays well below 65,535 so paho's 16-bit message ids are never reused.
MAX_INFLIGHT = 10_000
SLICE_S = 0.02  # pacing granularity


class PublishError(TransientError):
    """The broker is unreachable or refused us; the message says where and what to do."""


@dataclass
class PublishStats:
    sent: int = 0
    acked: int = 0
    failed: int = 0  # PUBACK with a failure reason code (MQTT 5) or publish() refused
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Acknowledged messages per second since the start."""
        return self.acked / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def pending(self) -> int:
        return self.sent - self.acked - self.failed


def encode(
    sensor: str, messages: Iterable[SimulatedMessage], prefix: str = "finemeca"
) -> Iterator[tuple[str, bytes]]:
    """(topic, JSON bytes) for each simulated message: `<prefix>/<sensor>/<idGateway>/<idDevice>`."""
    for message in messages:
        topic = mqtt_device_topic(sensor, message.id_gateway, message.id_device, prefix)
        yield topic, json.dumps(message.payload, separators=(",", ":")).encode()


def interleave(*streams: Iterable[T]) -> Iterator[T]:
    """Round-robin over several streams (e.g. `--all` sensors), until the shortest ends."""
    for group in zip(*streams, strict=False):
        yield from group


class MqttPublisher:
    """One MQTT connection publishing QoS 1 messages; use as a context manager."""

    def __init__(
        self, settings: MqttSettings | None = None, client_id: str | None = None, qos: int = 1
    ) -> None:
        self.settings = settings or MqttSettings()  # type: ignore[call-arg]  # pydantic Field defaults
        self.qos = qos
        self.stats = PublishStats()
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._connect_error: str | None = None
        protocol = mqtt.MQTTv5 if self.settings.protocol.strip() == "5" else mqtt.MQTTv311
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"finemeca-sim-{uuid.uuid4().hex[:10]}",
            protocol=protocol,
        )
        self.client.max_inflight_messages_set(0)  # unlimited in paho; see MAX_INFLIGHT
        self.client.max_queued_messages_set(0)
        if self.settings.username:
            password = self.settings.password.get_secret_value() if self.settings.password else None
            self.client.username_pw_set(self.settings.username, password)
        if self.settings.tls:
            self.client.tls_set(ca_certs=str(self.settings.ca_file) if self.settings.ca_file else None)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    # ------------------------------------------------------------------ connection

    def connect(self, timeout: float = 10.0) -> None:
        try:
            self.client.connect(self.settings.host, self.settings.port, keepalive=self.settings.keepalive)
        except OSError as exc:
            raise PublishError(
                f"MQTT broker at {self.address} is not reachable ({exc}). "
                "Is the stack running? Try `finemeca stack up`."
            ) from exc
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.close()
            raise PublishError(
                f"MQTT broker at {self.address} did not answer CONNECT within {timeout:.0f}s"
                + (f": {self._connect_error}" if self._connect_error else "")
            )
        if self._connect_error:
            self.close()
            raise PublishError(f"MQTT broker at {self.address} refused the connection: {self._connect_error}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            self._connect_error = str(reason)
        self._connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            with self._lock:
                self.stats.errors.append(f"disconnected from {self.address}: {reason}")

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._lock:
            if reason.is_failure:
                self.stats.failed += 1
                if len(self.stats.errors) < 20:
                    self.stats.errors.append(f"message {mid} refused: {reason}")
            else:
                self.stats.acked += 1

    # ------------------------------------------------------------------ publishing

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish one message; blocks (bounded) while MAX_INFLIGHT messages await their PUBACK."""
        if self.stats.pending >= MAX_INFLIGHT:
            self._wait_for_window()
        info = self.client.publish(topic, payload, qos=self.qos)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            with self._lock:
                self.stats.failed += 1
                self.stats.errors.append(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        self.stats.sent += 1

    def _wait_for_window(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stats.pending >= MAX_INFLIGHT:
            if time.monotonic() > deadline:
                raise PublishError(
                    f"{self.stats.pending} messages unacknowledged for {timeout:.0f}s by {self.address}"
                )
            time.sleep(0.001)

    def publish_all(
        self,
        items: Iterable[tuple[str, bytes]],
        *,
        rate: float | None = None,
        count: int | None = None,
        duration: float | None = None,
        on_progress: Callable[[PublishStats], None] | None = None,
        progress_every: float = 0.25,
        should_stop: Callable[[], bool] | None = None,
    ) -> PublishStats:
        """Publish `items` at `rate` msg/s (None = as fast as possible) until `count` messages or
        `duration` seconds (or the items end). Does not wait for the acks: see `wait_for_acks`."""
        if count is not None:
            items = itertools.islice(items, count)
        batch = max(1, round(rate * SLICE_S)) if rate else 500
        started = time.monotonic()
        self.stats.started = started
        deadline = started + duration if duration else None
        last_progress = started
        iterator = iter(items)
        while True:
            chunk = list(itertools.islice(iterator, batch))
            for topic, payload in chunk:
                self.publish(topic, payload)
            now = time.monotonic()
            if on_progress and now - last_progress >= progress_every:
                on_progress(self.stats)
                last_progress = now
            if len(chunk) < batch or (deadline and now >= deadline) or (should_stop and should_stop()):
                break
            if rate:
                ahead = started + self.stats.sent / rate - now
                if ahead > 0:
                    time.sleep(ahead if deadline is None else min(ahead, max(deadline - now, 0.0)))
        return self.stats

    def wait_for_acks(
        self,
        timeout: float = 30.0,
        on_progress: Callable[[PublishStats], None] | None = None,
        progress_every: float = 0.25,
    ) -> bool:
        """Block until every sent message is acknowledged (or refused); False on timeout."""
        deadline = time.monotonic() + timeout
        last_progress = time.monotonic()
        while self.stats.pending > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
            if on_progress and time.monotonic() - last_progress >= progress_every:
                on_progress(self.stats)
                last_progress = time.monotonic()
        self.stats.finished = time.monotonic()
        if on_progress:
            on_progress(self.stats)
        return self.stats.pending == 0
