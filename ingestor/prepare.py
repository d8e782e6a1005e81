"""Turns raw queue messages into bulk actions or dead-letter verdicts (pure logic, no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from finemeca import envelope, naming
from finemeca.deadletter import (
    DEADLETTER_MAPPINGS,
    RECORD_HEADER,
    RECORD_KIND,
    record_id,
    truncation_reason,
)
from ingestor.delivery import Delivery
from ingestor.keywords import keyword_limits, truncate_keywords
from ingestor.reception import clock_skew_s, identity_problem, received_at
from sensors.base import Document, SensorPlugin, UnknownFields, UnknownFieldsError

_RECORD_FIELDS = frozenset(DEADLETTER_MAPPINGS["properties"])
DEFAULT_CLOCK_SKEW_TOLERANCE_S = 120.0
# Fields set from the delivery (receive time, ingest time), not from the device: two deliveries of one
# message may differ in them (`@timestamp` too: the receive time picks the occurrence of a repeated DST
# hour). The conflict check (ingestor/conflicts.py) ignores them; list here every such field `prepare` sets.
DELIVERY_FIELDS = frozenset(
    {"@timestamp", "received_at", "ingest_lag_ms", "clock_skew_s", "clock_skewed", "ingested_at"}
)


@dataclass(slots=True)
class Incoming:
    """One message taken from the queue, with what is needed to acknowledge it."""

    ack_id: str
    generation: int
    body: bytes
    headers: dict[str, Any]
    delivery: Delivery | None = None  # an item of an envelope: acked through it, with its siblings


@dataclass(slots=True)
class Prepared:
    incoming: Incoming
    index: str
    doc_id: str
    document: Document
    record: bool = False  # a gateway's dead-letter record for the dead-letters index, not sensor data


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
    """`<idGateway>-<idDevice>` as sent (for the dead-letter record), bounded; None if absent."""
    try:
        data = json.loads(body)
        key = f"{data['idGateway']}-{data['idDevice']}" if isinstance(data, dict) else None
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return key[:64] if key else None


def prepare(
    messages: list[Incoming],
    plugin: SensorPlugin,
    zone: ZoneInfo,
    index_prefix: str = naming.DEFAULT_PREFIX,
    unknown_fields: UnknownFields = "reject",
    clock_skew_tolerance_s: float = DEFAULT_CLOCK_SKEW_TOLERANCE_S,
    limits: dict[str, int] | None = None,
) -> PreparedBatch:
    """Validate and transform each message with the plugin, handing it the engine's settings (`zone`,
    `unknown_fields`) and the message's receive time; what fails is a `Rejected` with its stage and
    reason, never an exception. `limits`: keyword length policy (`keyword_limits` of the plugin's
    mapping, computed if None)."""
    batch = PreparedBatch()
    now = datetime.now(UTC)
    ingested_at = now.isoformat()
    limits = keyword_limits(plugin.index_mappings()) if limits is None else limits
    for incoming in messages:
        if incoming.headers.get(RECORD_HEADER) == RECORD_KIND:
            _add_record(batch, incoming, index_prefix)
            continue
        if incoming.delivery is None and envelope.is_envelope(incoming.headers):  # left whole: unreadable
            batch.rejected.append(
                Rejected(incoming, "parse", envelope.problem(incoming.body, incoming.headers))
            )
            continue
        if reason := truncation_reason(incoming.headers, incoming.body):
            batch.rejected.append(Rejected(incoming, "parse", reason))
            continue
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
        except RecursionError:
            batch.rejected.append(
                Rejected(incoming, "parse", "not JSON this service can read: nested too deeply")
            )
            continue
        except Exception as exc:  # a validator bug must not stop the ingestor either
            reason = f"{type(exc).__name__}: {exc}"
            batch.rejected.append(Rejected(incoming, "validate", reason, _device_key(incoming.body)))
            continue
        received = received_at(incoming.headers)
        try:
            document = plugin.to_document(payload, zone, received_at=received)
            measured = plugin.timestamp(payload, zone, received_at=received)
            # the daily index comes from the message alone: a redelivery received at another time (which
            # may choose the other occurrence of a repeated DST hour) meets its first copy's id and index
            index = naming.daily_index(plugin.name, plugin.timestamp(payload, zone), index_prefix)
            doc_id = plugin.document_id(payload)
        except Exception as exc:  # a transform bug must not stop the ingestor: dead-letter, keep going
            reason = f"{type(exc).__name__}: {exc}"
            batch.rejected.append(Rejected(incoming, "transform", reason, _device_key(incoming.body)))
            continue
        problem = identity_problem(incoming.headers, document.get("gateway_id"), document.get("device_id"))
        if problem:
            batch.rejected.append(Rejected(incoming, "validate", problem, _device_key(incoming.body)))
            continue
        if received is not None:
            document["received_at"] = received.isoformat()
            # gateway receive -> ingestor, as a number the dashboards can average (dates cannot be subtracted)
            document["ingest_lag_ms"] = max(0, round((now - received).total_seconds() * 1000))
            skew = clock_skew_s(measured, received)
            document["clock_skew_s"] = skew
            document["clock_skewed"] = abs(skew) > clock_skew_tolerance_s
        truncate_keywords(document, limits)
        document["ingested_at"] = ingested_at
        batch.ready.append(Prepared(incoming, index, doc_id, document))
    return batch


def _add_record(batch: PreparedBatch, incoming: Incoming, index_prefix: str) -> None:
    """A gateway's dead-letter record: indexed into the dead-letters index, id from the message id."""
    try:
        data = json.loads(incoming.body)
        if not isinstance(data, dict):
            raise ValueError(f"expected an object, got {type(data).__name__}")
    except (ValueError, RecursionError) as exc:
        batch.rejected.append(Rejected(incoming, "parse", f"dead-letter record is not a JSON object: {exc}"))
        return
    document = {key: value for key, value in data.items() if key in _RECORD_FIELDS}
    key = str(incoming.headers.get("message-id") or incoming.body)
    stage = str(document.get("stage", "gateway"))
    index = naming.deadletter_index(index_prefix)
    batch.ready.append(Prepared(incoming, index, record_id(stage, key), document, record=True))
