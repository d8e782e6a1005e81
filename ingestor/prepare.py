"""Turns raw queue messages into bulk actions or dead-letter verdicts (pure logic, no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from finemeca import naming
from sensors.base import Document, SensorPlugin, UnknownFields, UnknownFieldsError


@dataclass(slots=True)
class Incoming:
    """One message taken from the queue, with what is needed to acknowledge it."""

    ack_id: str
    generation: int
    body: bytes
    headers: dict[str, Any]


@dataclass(slots=True)
class Prepared:
    incoming: Incoming
    index: str
    doc_id: str
    document: Document


@dataclass(slots=True)
class Rejected:
    incoming: Incoming
    stage: str
    reason: str
    device_key: str | None = None


@dataclass
class PreparedBatch:
    ready: list[Prepared] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def describe_validation_error(exc: ValidationError) -> str:
    """One line a person can act on: which field, what was wrong, what value came in."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "message"
        value = repr(err.get("input"))[:60]
        parts.append(f"{where}: {err['msg']} (got {value})")
    more = f" (+{exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more


def _device_key(body: bytes) -> str | None:
    try:
        data = json.loads(body)
        return f"{data['idGateway']}-{data['idDevice']}" if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def prepare(
    messages: list[Incoming],
    plugin: SensorPlugin,
    zone: ZoneInfo,
    index_prefix: str = naming.DEFAULT_PREFIX,
    unknown_fields: UnknownFields = "reject",
) -> PreparedBatch:
    """Validate and transform each message with the plugin, handing it the engine's settings (`zone`,
    `unknown_fields`); what fails is a `Rejected` with its stage and reason, never an exception."""
    batch = PreparedBatch()
    now = datetime.now(UTC)
    for incoming in messages:
        try:
            payload = plugin.parse(incoming.body, unknown_fields)
        except ValidationError as exc:
            stage, reason = "validate", describe_validation_error(exc)
            batch.rejected.append(Rejected(incoming, stage, reason, _device_key(incoming.body)))
            continue
        except UnknownFieldsError as exc:
            batch.rejected.append(Rejected(incoming, "validate", str(exc), _device_key(incoming.body)))
            continue
        except (ValueError, UnicodeDecodeError) as exc:
            batch.rejected.append(Rejected(incoming, "parse", f"not a JSON object: {exc}"))
            continue
        try:
            document = plugin.to_document(payload, zone)
            timestamp = plugin.timestamp(payload, zone)
            doc_id = plugin.document_id(payload)
        except Exception as exc:  # a transform bug must not stop the ingestor: dead-letter, keep going
            reason = f"{type(exc).__name__}: {exc}"
            batch.rejected.append(Rejected(incoming, "transform", reason, _device_key(incoming.body)))
            continue
        received = incoming.headers.get(naming.HEADER_RECEIVED_AT)
        if received and str(received).isdigit():
            document["received_at"] = datetime.fromtimestamp(int(received) / 1000, UTC).isoformat()
        document["ingested_at"] = now.isoformat()
        index = naming.daily_index(plugin.name, timestamp, index_prefix)
        batch.ready.append(Prepared(incoming, index, doc_id, document))
    return batch
