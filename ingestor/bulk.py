"""Writes prepared documents with the bulk helper and sorts each item's outcome.

Outcomes: created, duplicate (409 on create: the message was indexed before: success), retry
(429, 5xx, Elasticsearch unreachable: nothing is acked meanwhile), rejected (other 4xx, e.g. a
mapping error: dead-lettered with the reason, stage `index`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch
from elasticsearch.helpers import streaming_bulk

from finemeca.errors import TransientError
from finemeca.logs import get_logger
from finemeca.retry import RetryPolicy, retrying
from ingestor.prepare import Prepared

log = get_logger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
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


def _actions(items: list[Prepared]) -> list[dict[str, Any]]:
    return [{"_op_type": "create", "_index": p.index, "_id": p.doc_id, "_source": p.document} for p in items]


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
    try:
        results = streaming_bulk(
            es,
            _actions(pending),
            chunk_size=max(len(pending), 1),
            max_chunk_bytes=50 * 1024 * 1024,
            raise_on_error=False,
            raise_on_exception=True,
            max_retries=0,
        )
        for prepared, (_ok, result) in zip(pending, results, strict=True):
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
    except (TransportConnectionError, ConnectionTimeout) as exc:
        log.warning("ingestor.elasticsearch_unreachable", error=str(exc), pending=len(pending))
        on_unavailable()
        return pending
    except ApiError as exc:
        if exc.meta.status not in RETRYABLE_STATUS:
            raise
        log.warning("ingestor.bulk_rejected_whole", status=exc.meta.status, error=str(exc))
        on_unavailable()
        return pending
    return retry
