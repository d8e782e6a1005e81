"""SMTP failing for good: after the retries the event goes to the alerts DLQ with the reason; no mail."""

from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime

import pytest
import stomp

from alerts.events import AlertEvent, event_id
from alerts.mailer.consumer import Mailer
from alerts.publisher import StompPublisher

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 6, 7, 0, tzinfo=UTC)


def test_smtp_down_goes_to_dlq_with_reason(
    es, alert_settings, mailer_settings, smtp_settings, stomp_settings
):
    event = AlertEvent(
        event_id=event_id("dlq", "170-1", T0, "fired"),
        kind="fired", rule="dlq", rule_kind="threshold", sensor="air", severity="warning",
        device_key="170-1", at=T0, episode_start=T0, values={},
    )  # fmt: skip
    publisher = StompPublisher(alert_settings.queue, stomp_settings)
    publisher.publish([event])
    publisher.close()

    dead: queue.Queue = queue.Queue()

    class Listener(stomp.ConnectionListener):
        def on_message(self, frame):
            dead.put(frame)

    conn = stomp.Connection12([(stomp_settings.host, stomp_settings.port)])
    conn.set_listener("", Listener())
    password = stomp_settings.password.get_secret_value() if stomp_settings.password else None
    conn.connect(stomp_settings.username, password, wait=True)
    conn.subscribe(mailer_settings.dead_letter_queue, "dlq", ack="auto")

    closed_port = smtp_settings.model_copy(update={"port": 9, "timeout": 1.0})
    mailer = Mailer(es, mailer_settings, closed_port, stomp_settings)
    thread = threading.Thread(target=mailer.run, kwargs={"max_messages": 1}, daemon=True)
    thread.start()
    try:
        frame = dead.get(timeout=30)
    finally:
        mailer.stop.set()
        thread.join(timeout=10)
        conn.disconnect()
    assert frame.headers["dlq_stage"] == "mail"
    assert "SMTP failed" in frame.headers["dlq_reason"]
    assert frame.headers["event-id"] == event.event_id
    assert AlertEvent.model_validate_json(frame.body).event_id == event.event_id
