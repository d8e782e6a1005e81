"""Forwards batches of MQTT messages to ActiveMQ in STOMP transactions; acks MQTT after the commit receipt."""

from __future__ import annotations

import queue
import threading
import time

from stomp.exception import StompException

from finemeca import envelope, naming
from finemeca.batching import take_batch
from finemeca.deadletter import (
    dead_letter_headers,
    header_value,
    record_document,
    record_message,
    truncate_body,
)
from finemeca.errors import StopRequested
from finemeca.logs import get_logger
from finemeca.retry import RetryPolicy, retrying
from finemeca.stomp_link import StompLink, StompUnavailableError
from gateway import metrics
from gateway.mqtt_source import MqttMessage, MqttSource
from gateway.screening import forwarded_body, rejection_reason, topic_rejection
from gateway.settings import GatewaySettings

log = get_logger(__name__)


class Forwarder:
    def __init__(
        self,
        sensor: str,
        source: MqttSource,
        link: StompLink,
        settings: GatewaySettings,
        queue_prefix: str = naming.DEFAULT_PREFIX,
        topic_prefix: str = naming.DEFAULT_PREFIX,
    ) -> None:
        self.sensor = sensor
        self.source = source
        self.link = link
        self.settings = settings
        self.topic_prefix = topic_prefix
        self.destination = naming.data_queue(sensor, queue_prefix)
        self.dlq = naming.dead_letter_queue(sensor, queue_prefix)
        self.stop_requested = threading.Event()
        self.forwarded = 0
        self.dead_lettered = 0
        self.last_commit_at: float | None = None

    def run(self) -> bool:
        """Loop until stop is requested, then forward what was received up to that moment.

        Returns True when everything received was forwarded and acknowledged."""
        while not self.stop_requested.is_set():
            batch = self._next_batch()
            if batch and not self._forward_until_committed(batch):
                return False  # stopping while ActiveMQ is unreachable: the broker session keeps them
        return self._forward_received()

    def _forward_received(self) -> bool:
        """Drain a snapshot only: under a steady stream the queue never empties, so waiting for that would
        never stop. Later arrivals stay unacked in the persistent MQTT session and come back on restart."""
        snapshot: list[MqttMessage] = []
        for _ in range(self.source.messages.qsize()):
            try:
                snapshot.append(self.source.messages.get_nowait())
            except queue.Empty:
                break
        for start in range(0, len(snapshot), self.settings.batch_size):
            batch = snapshot[start : start + self.settings.batch_size]
            metrics.RECEIVED.labels(self.sensor).inc(len(batch))
            if not self._forward_until_committed(batch):
                return False
        return True

    def _next_batch(self) -> list[MqttMessage]:
        batch = take_batch(
            self.source.messages, self.settings.batch_size, self.settings.batch_timeout_ms / 1000
        )
        metrics.RECEIVED.labels(self.sensor).inc(len(batch))
        metrics.INFLIGHT.labels(self.sensor).set(self.source.messages.qsize() + len(batch))
        return batch

    def _forward_until_committed(self, batch: list[MqttMessage]) -> bool:
        """Retry the same batch until ActiveMQ confirms it; MQTT acks only then (at-least-once).

        Returns False, acking nothing, when asked to stop while ActiveMQ is unreachable: the unacked
        messages stay in the MQTT broker's persistent session and are redelivered on restart.
        """
        policy = RetryPolicy(initial=1.0, cap=self.settings.max_retry_backoff_s)
        try:
            for attempt in retrying(
                policy,
                stop=self.stop_requested,
                retry_on=(StompUnavailableError, StompException, OSError),
                name="gateway.commit",
                log_fields={"sensor": self.sensor, "batch": len(batch)},
                on_retry=lambda _error: metrics.RETRIES.labels(self.sensor).inc(),
            ):
                with attempt:
                    self.link.ensure_connected(stop=self.stop_requested)
                    started = time.monotonic()
                    forwarded, rejected = self._send_transaction(batch)
        except StopRequested:
            log.warning(
                "gateway.stopped_unforwarded",
                sensor=self.sensor,
                batch=len(batch),
                note="not acknowledged: redelivered by the MQTT broker on restart",
            )
            return False
        elapsed = time.monotonic() - started
        self.source.ack_many(batch)
        now_ms = time.time() * 1000
        lag = metrics.LAG_SECONDS.labels(self.sensor)
        for message in batch:
            lag.observe((now_ms - message.received_ms) / 1000)
        metrics.FORWARDED.labels(self.sensor).inc(forwarded)
        metrics.DEAD_LETTERED.labels(self.sensor).inc(rejected)
        metrics.BATCH_SIZE.labels(self.sensor).observe(len(batch))
        metrics.COMMIT_SECONDS.labels(self.sensor).observe(elapsed)
        self.forwarded += forwarded
        self.dead_lettered += rejected
        self.last_commit_at = time.time()
        return True

    def _send_transaction(self, batch: list[MqttMessage]) -> tuple[int, int]:
        frames: list[tuple[str, bytes, dict[str, str]]] = []
        packed: list[tuple[str, int, bytes]] = []  # envelope mode: the accepted items
        per_message = self.settings.envelope == "message"
        rejected = 0
        for message in batch:
            body = forwarded_body(message.payload)
            reason = topic_rejection(message.topic, self.sensor, self.topic_prefix) or rejection_reason(
                body, self.settings.max_message_bytes
            )
            if reason is None and not per_message:
                packed.append((message.topic, message.received_ms, body))
                continue
            headers = self._message_headers(message)
            if reason is None:
                frames.append((self.destination, body, headers))
                continue
            frames.extend(self._dead_letter_frames(message, headers, reason))
            rejected += 1
        if packed:
            body, count = envelope.pack(packed)
            headers = {
                "content-type": envelope.CONTENT_TYPE,
                naming.HEADER_SENSOR: self.sensor,
                envelope.ENVELOPE_HEADER: envelope.ENVELOPE_KIND,
                envelope.ITEMS_HEADER: str(count),
            }
            frames.append((self.destination, body, headers))
        tx = self.link.begin()
        try:
            self.link.send_many(frames, transaction=tx)  # one socket write for the whole batch
        except Exception:
            self.link.abort(tx)
            raise
        self.link.commit(tx, timeout=self.settings.commit_timeout_s)
        return len(batch) - rejected, rejected

    def _message_headers(self, message: MqttMessage) -> dict[str, str]:
        """Headers of a message sent alone (per-message mode, dead letters); an envelope item carries the same."""
        return {
            "content-type": "application/json",
            naming.HEADER_SENSOR: self.sensor,
            naming.HEADER_MQTT_TOPIC: header_value(message.topic),
            naming.HEADER_RECEIVED_AT: str(message.received_ms),
        }

    def _dead_letter_frames(
        self, message: MqttMessage, headers: dict[str, str], reason: str
    ) -> list[tuple[str, bytes, dict[str, str]]]:
        """The DLQ copy (whole body up to the dead-letter maximum) and its record for the dead-letters
        index, which the ingestor indexes from the data queue: both in the batch's transaction."""
        log.warning(
            "gateway.dead_letter",
            sensor=self.sensor,
            topic=message.topic[: naming.MAX_TOPIC_SHOWN],
            reason=reason,
        )
        dlq_headers = dead_letter_headers(reason, "gateway", self.sensor, message.topic, headers)
        body = truncate_body(message.payload, self.settings.dead_letter_max_bytes, dlq_headers)
        record = record_document(reason, "gateway", self.sensor, message.payload)
        record_body, record_headers = record_message(record)
        return [(self.dlq, body, dlq_headers), (self.destination, record_body, record_headers)]
