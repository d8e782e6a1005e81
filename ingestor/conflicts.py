"""Same identity, different content: a 409 on create is only harmless if the stored document is the same.

A redelivered message gets the same id and the same document: a duplicate, acked and counted. A second,
different message with the same identity (`Time` + `msgCount` of one device) would vanish unseen behind
that 409; it is found here by comparing with the stored document, then dead-lettered (stage `conflict`).
"""

from __future__ import annotations

import threading
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch

from finemeca.retry import RetryPolicy, retrying
from ingestor.prepare import DELIVERY_FIELDS, Prepared


def differences(stored: dict[str, Any], new: dict[str, Any], limit: int = 5) -> list[str]:
    """'field: stored X, this message Y' for each field that differs, ignoring delivery fields (pure)."""
    keys = sorted((stored.keys() | new.keys()) - DELIVERY_FIELDS)
    return [
        f"{key}: stored {stored.get(key)!r}, this message {new.get(key)!r}"
        for key in keys
        if stored.get(key) != new.get(key)
    ][:limit]


def find_conflicts(
    es: Elasticsearch, duplicates: list[Prepared], policy: RetryPolicy, stop: threading.Event
) -> list[tuple[Prepared, str]]:
    """The duplicates whose stored document differs, each with a reason naming the fields."""
    if not duplicates:
        return []
    docs = [{"_index": p.index, "_id": p.doc_id} for p in duplicates]
    for attempt in retrying(
        policy,
        stop=stop,
        retry_on=(TransportConnectionError, ConnectionTimeout, ApiError),  # visible: /healthz stuck
        name="ingestor.conflict_check",
    ):
        with attempt:
            found = es.mget(docs=docs, source_excludes=sorted(DELIVERY_FIELDS))["docs"]
    conflicts = []
    for prepared, stored in zip(duplicates, found, strict=True):
        if not stored.get("found"):
            continue  # deleted since (retention): nothing to compare with
        diff = differences(stored["_source"], prepared.document)
        if diff:
            reason = (
                f"same identity as document {prepared.doc_id} already indexed, different content: "
                + "; ".join(diff)
            )
            conflicts.append((prepared, reason))
    return conflicts
