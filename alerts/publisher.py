"""Publishes alert events to ActiveMQ: persistent messages in one transaction confirmed by a receipt."""

from __future__ import annotations

from typing import Protocol

from alerts.events import AlertEvent
from finemeca import naming
from finemeca.config import StompSettings
from finemeca.logs import get_logger
from finemeca.stomp_link import StompLink

log = get_logger(__name__)


class EventPublisher(Protocol):
    def publish(self, events: list[AlertEvent]) -> None: ...

    def close(self) -> None: ...


def event_headers(event: AlertEvent) -> dict[str, str]:
    return {
        "persistent": "true",
        "content-type": "application/json",
        naming.HEADER_EVENT_ID: event.event_id,
        "event-kind": event.kind,
        "rule": event.rule,
        naming.HEADER_SENSOR: event.sensor,
        "device-key": event.device_key,
    }


class StompPublisher:
    """`publish` returns only once ActiveMQ stored every event (commit receipt), else raises."""

    def __init__(
        self, queue: str, settings: StompSettings | None = None, connect_timeout: float = 60.0
    ) -> None:
        self.queue = queue
        self.link = StompLink(settings or StompSettings(), client_name="alerts-job")
        self.connect_timeout = connect_timeout

    def publish(self, events: list[AlertEvent]) -> None:
        if not events:
            return
        self.link.ensure_connected(give_up_after=self.connect_timeout)
        tx = self.link.begin()
        try:
            for event in events:
                self.link.send(self.queue, event.to_json().encode(), event_headers(event), transaction=tx)
        except Exception:
            self.link.abort(tx)
            raise
        self.link.commit(tx)
        log.info("alerts.published", queue=self.queue, events=len(events))

    def close(self) -> None:
        self.link.close()
