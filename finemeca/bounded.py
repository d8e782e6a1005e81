"""Bounded text: what goes into a header, a reason or a log line never grows with hostile input."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

MAX_LOG_VALUE_CHARS = 2000


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, saying how much was cut: 'abc… (+4,997 chars)'."""
    if len(text) <= limit:
        return text
    keep = max(limit - len(f"… (+{len(text):,} chars)"), 0)  # the marker never pushes it over `limit`
    return f"{text[:keep]}… (+{len(text) - keep:,} chars)"


def cap_log_values(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: every string value of a log line is cut to MAX_LOG_VALUE_CHARS."""
    for key, value in event.items():
        if isinstance(value, str) and len(value) > MAX_LOG_VALUE_CHARS:
            event[key] = shorten(value, MAX_LOG_VALUE_CHARS)
    return event
