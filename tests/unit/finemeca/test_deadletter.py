"""What a dead letter carries and what a re-drive sends back (pure part of finemeca/deadletter.py)."""

from finemeca.deadletter import (
    MAX_HEADER_CHARS,
    dead_letter_headers,
    redrive_headers,
    truncate_body,
    truncation_reason,
)


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
    assert len(headers["mqtt-topic"]) == MAX_HEADER_CHARS
    for value in headers.values():
        value.encode("utf-8")  # a lone surrogate used to kill the STOMP send
