"""Bounded text (pure): reasons, headers and log values never grow with hostile input."""

from __future__ import annotations

from finemeca.bounded import MAX_LOG_VALUE_CHARS, cap_log_values, shorten
from finemeca.deadletter import MAX_HEADER_CHARS, MAX_REASON_CHARS, dead_letter_headers


def test_shorten_keeps_short_text_and_says_how_much_was_cut():
    assert shorten("abc", 10) == "abc"
    cut = shorten("x" * 34_010, 900)
    assert len(cut) <= 900 and cut.endswith(f"… (+{34_010 - cut.index('…'):,} chars)")


def test_dead_letter_headers_are_bounded():
    headers = dead_letter_headers("r" * 34_010, "validate", "air", "o" * 70_000, {"mqtt-topic": "t" * 70_000})
    assert len(headers["dlq_reason"]) <= MAX_REASON_CHARS and "more" not in headers["dlq_reason"][:800]
    assert "chars)" in headers["dlq_reason"]
    assert len(headers["mqtt-topic"]) <= MAX_HEADER_CHARS and len(headers["dlq_origin"]) <= MAX_HEADER_CHARS


def test_log_values_are_capped():
    event = cap_log_values(None, "warning", {"event": "x", "reason": "r" * 50_000, "n": 5})
    assert len(event["reason"]) <= MAX_LOG_VALUE_CHARS and event["n"] == 5 and event["event"] == "x"
