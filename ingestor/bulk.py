"""Writes prepared documents with the bulk helper and sorts each item's outcome.

Outcomes: created, duplicate (409 on create: the message was indexed before: success), retry
(429, 5xx, 401/403, Elasticsearch unreachable: nothing is acked meanwhile), rejected (other 4xx, e.g. a
mapping error: dead-lettered with the reason, stage `index`).

One bad item never holds back the others: a document the serializer cannot write is rejected alone,
and a request Elasticsearch refuses as a whole (400, 413) is split in halves until the refused item is
alone, then that item is rejected.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, SerializationError
from elasticsearch import ApiError, Elasticsearch

from finemeca.errors import TransientError
from finemeca.logs import get_logger
from finemeca.retry import RetryPolicy, retrying
from ingestor.prepare import Prepared

log = get_logger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# A whole request refused for these is the server's or the operator's problem, not the data's: wait.
WAIT_STATUS = RETRYABLE_STATUS | {401, 403}
# all the outcome needs (items come back in request order): Elasticsearch writes, and we parse, less
BULK_RESPONSE_FIELDS = ["errors", "items.*.status", "items.*.error"]
DEFAULT_POLICY = RetryPolicy(initial=0.5, cap=30.0)  # the ingestor builds its own from INGESTOR_* settings


@dataclass
class BulkOutcome:
    created: list[Prepared] = field(default_factory=list)
    duplicates: list[Prepared] = field(default_factory=list)
    rejected: list[tuple[Prepared, str]] = field(default_factory=list)
    retries: int = 0


def classify(status: int, error: Any) -> str:
    """'created' | 'duplicate' | 'retry' | 'reject' for one bulk item result (pure)."""
    if 200 <= status < 300:
        return "created"
    if status == 409:
        return "duplicate"
    if status in RETRYABLE_STATUS:
        return "retry"
    return "reject"


def describe_item_error(error: Any) -> str:
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict):
            reason += f" (caused by {cause.get('type')}: {cause.get('reason')})"
        return reason
    return str(error)


class _PendingItemsError(TransientError):
    """Some items (or the whole request) must be sent again."""


def write(
    es: Elasticsearch,
    items: list[Prepared],
    policy: RetryPolicy = DEFAULT_POLICY,
    stop: threading.Event | None = None,
    on_unavailable: Callable[[], None] = lambda: None,
) -> BulkOutcome:
    """Index `items`, retrying what is retryable with `policy` until done; raises `StopRequested` if
    `stop` is set while items are still pending (nothing of them is acked: ActiveMQ redelivers).

    `on_unavailable` is called each time the whole request failed (unreachable, 5xx): health goes red
    while the loop waits, instead of after it."""
    outcome = BulkOutcome()
    pending = items
    for attempt in retrying(policy, stop=stop, retry_on=(_PendingItemsError,), name="ingestor.bulk"):
        with attempt:
            if pending:
                pending = _write_once(es, pending, outcome, on_unavailable)
            if pending:
                outcome.retries += len(pending)
                raise _PendingItemsError(f"{len(pending)} of {len(items)} documents not indexed yet")
    return outcome


def _write_once(
    es: Elasticsearch, pending: list[Prepared], outcome: BulkOutcome, on_unavailable: Callable[[], None]
) -> list[Prepared]:
    """One bulk request: record created/duplicate/rejected items in `outcome`, return those to retry."""
    retry: list[Prepared] = []
    done = 0
    try:
        # one request, built here with the client's JSON serializer (orjson in the ingestor): the bulk
        # helper's per-action expansion and chunking cost more than the serialization itself
        dumps = es.transport.serializers.get_serializer("application/json").dumps
        lines: list[bytes] = []
        for p in pending:
            lines.append(dumps({"create": {"_index": p.index, "_id": p.doc_id}}))
            lines.append(dumps(p.document))
        lines.append(b"")
        response = es.bulk(
            operations=b"\n".join(lines),  # type: ignore[arg-type]  # ndjson bytes pass as is
            filter_path=BULK_RESPONSE_FIELDS,
        )
        for prepared, result in zip(pending, response["items"], strict=True):
            done += 1
            item = next(iter(result.values()))
            verdict = classify(int(item.get("status", 0)), item.get("error"))
            if verdict == "created":
                outcome.created.append(prepared)
            elif verdict == "duplicate":
                outcome.duplicates.append(prepared)
            elif verdict == "retry":
                retry.append(prepared)
            else:
                outcome.rejected.append((prepared, describe_item_error(item.get("error"))))
        return retry
    except SerializationError:
        writable = [p for p in pending[done:] if _serialisable(es, p, outcome)]
        return retry + (_write_once(es, writable, outcome, on_unavailable) if writable else [])
    except (TransportConnectionError, ConnectionTimeout) as exc:
        log.warning("ingestor.elasticsearch_unreachable", error=str(exc), pending=len(pending))
        on_unavailable()
        return retry + pending[done:]
    except ApiError as exc:
        rest = pending[done:]
        if exc.meta.status in WAIT_STATUS:
            log.warning("ingestor.bulk_rejected_whole", status=exc.meta.status, error=str(exc))
            on_unavailable()
            return retry + rest
        if len(rest) == 1:
            outcome.rejected.append((rest[0], _describe_refusal(exc)))
            return retry
        log.warning("ingestor.bulk_refused_split", status=exc.meta.status, items=len(rest), error=str(exc))
        half = len(rest) // 2
        return (
            retry
            + _write_once(es, rest[:half], outcome, on_unavailable)
            + _write_once(es, rest[half:], outcome, on_unavailable)
        )


def _describe_refusal(exc: ApiError) -> str:
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    detail = describe_item_error(error) if error else str(exc.message)
    return f"Elasticsearch refused the request (HTTP {exc.meta.status}): {detail}"


def _serialisable(es: Elasticsearch, prepared: Prepared, outcome: BulkOutcome) -> bool:
    """False (and the item rejected with the reason) when the client's serializer cannot write it."""
    try:
        es.transport.serializers.dumps(prepared.document, mimetype="application/json")
        return True
    except SerializationError as exc:
        cause = "; ".join(str(e) for e in exc.errors) or exc.message[:200]
        outcome.rejected.append((prepared, f"document cannot be written as JSON: {cause}"))
        return False
