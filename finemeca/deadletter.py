"""Dead-letter headers: why and where a message was rejected. Bad input is never dropped silently."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from finemeca import naming
from finemeca.bounded import shorten

# STOMP headers ActiveMQ reserves or recomputes; never copied onto a dead-lettered copy.
_RESERVED = {
    "message-id",
    "destination",
    "subscription",
    "ack",
    "content-length",
    "redelivered",
    "expires",
    "timestamp",
    "priority",
    "persistent",
    "transaction",
    "receipt",
    "JMSXDeliveryCount",
}
MAX_REASON_CHARS = 900
MAX_HEADER_CHARS = 1000  # any other copied header (e.g. a hostile MQTT topic) is cut to this

# The dead-letter record index (naming.deadletter_index): written by the ingestor, read by the dashboards.
DEADLETTER_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": {"type": "date"},
        "sensor": {"type": "keyword"},
        "stage": {"type": "keyword"},
        "reason": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
        "device_key": {"type": "keyword"},
        "body_preview": {"type": "text", "index": False},
    },
}


def dead_letter_headers(
    reason: str, stage: str, sensor: str, origin: str, original: dict[str, Any] | None = None
) -> dict[str, str]:
    """Headers for a dead-lettered copy: the original headers plus `dlq_*` (selector-friendly names)."""
    headers = {
        k: shorten(str(v), MAX_HEADER_CHARS) for k, v in (original or {}).items() if k not in _RESERVED
    }
    one_line = " ".join(reason.split())
    headers.update(
        {
            naming.DLQ_REASON: shorten(one_line, MAX_REASON_CHARS),
            naming.DLQ_STAGE: stage,
            naming.DLQ_SENSOR: sensor,
            naming.DLQ_AT: datetime.now(UTC).isoformat(timespec="milliseconds"),
            naming.DLQ_ORIGIN: shorten(origin, MAX_HEADER_CHARS),
        }
    )
    return headers
