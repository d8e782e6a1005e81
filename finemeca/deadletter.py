"""Dead letters: why and where a message was rejected. Bad input is never dropped silently.

What a dead letter carries (docs/CONTRACTS.md): the original body (up to a documented maximum, see
`truncate_body`), the original headers, and `dlq_*` headers. `redrive_headers` is what a re-drive sends
back to the data queue. A dead-letter record (`record_document`) is the dashboard's copy in the
dead-letters index; the gateway hands its records to the ingestor through the data queue
(`RECORD_HEADER`), so every stage lands in the same index without the gateway talking to Elasticsearch.
"""

from __future__ import annotations

import hashlib
import json
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
# ActiveMQ refuses a STOMP header line above 10 KiB (and drops the connection): copied values are capped.
MAX_HEADER_CHARS = 1000  # any other copied header (e.g. a hostile MQTT topic) is cut to this
# The body of a dead letter is kept whole up to this size (the gateway's GATEWAY_DEAD_LETTER_MAX_BYTES
# default); beyond it only the first bytes are kept and `dlq_truncated_from` gives the original size.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
TRUNCATED_HEADER = naming.DLQ_TRUNCATED_FROM
# Dead-letter headers a re-drive drops: they describe the rejection, not the message.
_REJECTION_HEADERS = {
    naming.DLQ_REASON,
    naming.DLQ_STAGE,
    naming.DLQ_SENSOR,
    naming.DLQ_AT,
    naming.DLQ_ORIGIN,
}
RECORD_HEADER = "finemeca_record"
RECORD_KIND = "deadletter"
PREVIEW_CHARS = 500

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


def _valid_utf8(text: str) -> str:
    """Lone surrogates (from JSON escapes) written as `\\udXXX`: a STOMP frame must encode as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def header_value(value: Any) -> str:
    """One STOMP-safe header value: valid UTF-8, bounded."""
    return shorten(_valid_utf8(str(value)), MAX_HEADER_CHARS)


def dead_letter_headers(
    reason: str, stage: str, sensor: str, origin: str, original: dict[str, Any] | None = None
) -> dict[str, str]:
    """Headers for a dead-lettered copy: the original headers plus `dlq_*` (selector-friendly names)."""
    headers = {k: header_value(v) for k, v in (original or {}).items() if k not in _RESERVED}
    one_line = _valid_utf8(" ".join(reason.split()))
    headers.update(
        {
            naming.DLQ_REASON: shorten(one_line, MAX_REASON_CHARS),
            naming.DLQ_STAGE: stage,
            naming.DLQ_SENSOR: sensor,
            naming.DLQ_AT: datetime.now(UTC).isoformat(timespec="milliseconds"),
            naming.DLQ_ORIGIN: header_value(origin),
        }
    )
    return headers


def truncate_body(body: bytes, max_bytes: int, headers: dict[str, str]) -> bytes:
    """The body to keep in the DLQ: whole up to `max_bytes`, else its start and `dlq_truncated_from`."""
    if len(body) <= max_bytes:
        return body
    headers[TRUNCATED_HEADER] = str(len(body))
    return body[:max_bytes]


def redrive_headers(dead_letter: dict[str, str], now_ms: int) -> dict[str, str]:
    """Headers of a re-driven copy: the original headers (and `dlq_truncated_from`), not the verdict."""
    kept = {
        k: v
        for k, v in dead_letter.items()
        if k not in _RESERVED and k not in _REJECTION_HEADERS and not k.startswith("redriven_")
    }
    kept["redriven_from_reason"] = dead_letter.get(naming.DLQ_REASON, "")[:300]
    kept["redriven_from_stage"] = dead_letter.get(naming.DLQ_STAGE, "")
    kept["redriven_at"] = str(now_ms)
    return kept


def truncation_reason(headers: dict[str, Any], body: bytes) -> str | None:
    """Why a re-driven body cannot be processed: it is the truncated start of a larger message."""
    original = headers.get(TRUNCATED_HEADER)
    if original is None:
        return None
    return (
        f"truncated copy: the original message had {original} bytes, the dead-letter queue kept the "
        f"first {len(body)} (GATEWAY_DEAD_LETTER_MAX_BYTES); it cannot be re-processed"
    )


def record_document(
    reason: str, stage: str, sensor: str, body: bytes, device_key: str | None = None
) -> dict[str, Any]:
    """A document of the dead-letters index (mapping in ingestor/indices.py)."""
    doc: dict[str, Any] = {
        "@timestamp": datetime.now(UTC).isoformat(),
        "sensor": sensor,
        "stage": stage,
        "reason": header_value(" ".join(reason.split()))[:MAX_REASON_CHARS],
        "body_preview": body[:PREVIEW_CHARS].decode("utf-8", "replace"),
    }
    if device_key is not None:
        doc["device_key"] = device_key
    return doc


def record_id(stage: str, key: str | bytes) -> str:
    """Deterministic id of a record: a redelivered message is recorded once."""
    raw = key if isinstance(key, bytes) else key.encode("utf-8", "backslashreplace")
    return f"{stage}-{hashlib.sha256(raw).hexdigest()[:32]}"


def record_message(record: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a record sent through the data queue for the ingestor to index."""
    return json.dumps(record).encode(), {"content-type": "application/json", RECORD_HEADER: RECORD_KIND}
