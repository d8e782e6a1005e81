"""Dead-letter headers (pure): the reason and stage travel with the copy; broker headers never do."""

from __future__ import annotations

from datetime import datetime

from finemeca import naming
from finemeca.deadletter import MAX_REASON_CHARS, dead_letter_headers


def test_original_headers_are_kept_and_the_verdict_added() -> None:
    original = {
        naming.HEADER_SENSOR: "air",
        naming.HEADER_MQTT_TOPIC: "finemeca/air/10/102",
        naming.HEADER_RECEIVED_AT: 1650239681000,
        "message-id": "ID:broker-1:1:1:1",
        "destination": "/queue/finemeca.air.data",
        "subscription": "ingestor-air",
        "ack": "ID:x",
        "redelivered": "true",
        "persistent": "true",
        "JMSXDeliveryCount": "2",
    }
    headers = dead_letter_headers("bad Time", "validate", "air", "/queue/finemeca.air.data", original)
    assert headers[naming.HEADER_RECEIVED_AT] == "1650239681000"  # values become strings
    assert headers[naming.HEADER_MQTT_TOPIC] == "finemeca/air/10/102"
    for reserved in ("message-id", "destination", "subscription", "ack", "redelivered", "persistent"):
        assert reserved not in headers, reserved
    assert "JMSXDeliveryCount" not in headers
    assert headers[naming.DLQ_REASON] == "bad Time"
    assert headers[naming.DLQ_STAGE] == "validate"
    assert headers[naming.DLQ_SENSOR] == "air"
    assert headers[naming.DLQ_ORIGIN] == "/queue/finemeca.air.data"
    assert datetime.fromisoformat(headers[naming.DLQ_AT]).tzinfo is not None


def test_the_reason_is_one_bounded_line() -> None:
    reason = "first line\nsecond\tline   " + "x" * 2000
    headers = dead_letter_headers(reason, "index", "air", "q")
    assert headers[naming.DLQ_REASON].startswith("first line second line x")
    assert len(headers[naming.DLQ_REASON]) == MAX_REASON_CHARS
    assert "\n" not in headers[naming.DLQ_REASON]


def test_no_original_headers() -> None:
    headers = dead_letter_headers("too big", "gateway", "air", "finemeca/air/1/2")
    assert set(headers) == {
        naming.DLQ_REASON,
        naming.DLQ_STAGE,
        naming.DLQ_SENSOR,
        naming.DLQ_AT,
        naming.DLQ_ORIGIN,
    }
