"""Dead-letter headers (pure): the reason and stage travel with the copy; broker headers never do."""

from __future__ import annotations

from datetime import datetime

from finemeca import naming
from finemeca.deadletter import (
    MAX_HEADER_CHARS,
    MAX_REASON_CHARS,
    dead_letter_headers,
    redrive_headers,
    truncate_body,
    truncation_reason,
)


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


def test_body_kept_whole_up_to_the_maximum_then_marked_truncated():
    headers: dict[str, str] = {}
    assert truncate_body(b"x" * 100, 100, headers) == b"x" * 100 and headers == {}
    assert truncate_body(b"x" * 101, 100, headers) == b"x" * 100
    assert headers == {"dlq_truncated_from": "101"}
    assert "101 bytes" in (truncation_reason(headers, b"x" * 100) or "")
    assert truncation_reason({}, b"{}") is None


def test_redrive_keeps_original_headers_and_truncation_drops_the_verdict():
    original = {"mqtt-topic": "finemeca/air/1/2", "gateway-received-at": "17", "custom": "kept"}
    letter = dead_letter_headers("not JSON", "gateway", "air", "finemeca/air/1/2", original)
    letter.update({"message-id": "ID:x:-1:1:1", "dlq_truncated_from": "2000000", "redelivered": "true"})
    again = redrive_headers(letter, now_ms=42)
    assert {k: again[k] for k in original} == original
    assert again["dlq_truncated_from"] == "2000000"
    assert again["redriven_from_stage"] == "gateway" and again["redriven_at"] == "42"
    assert not {"dlq_reason", "dlq_stage", "message-id", "redelivered"} & set(again)


def test_header_values_are_valid_utf8_and_bounded():
    headers = dead_letter_headers(
        "unknown field \ud800", "validate", "air", "q", {"mqtt-topic": "t" * 20_000}
    )
    assert len(headers["mqtt-topic"]) <= MAX_HEADER_CHARS
    for value in headers.values():
        value.encode("utf-8")  # a lone surrogate used to kill the STOMP send
