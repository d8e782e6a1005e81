"""Idempotence: one document per customer and week in `<prefix>-report-sent` (`_id` `<customer>-<week>`).

Claimed with `create` before sending (a second run for the same week finds it and sends nothing), marked
`sent` after the SMTP server accepted the mail. A claim left `sending` by a crash is retried next run
(at least once: a crash between SMTP acceptance and the mark can repeat one mail, never lose it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import ConflictError, Elasticsearch

from finemeca.es import ensure_index

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "customer": {"type": "keyword"},
        "week": {"type": "keyword"},
        "status": {"type": "keyword"},
        "recipients": {"type": "keyword"},
        "message_id": {"type": "keyword"},
        "claimed_at": {"type": "date"},
        "sent_at": {"type": "date"},
        "total_cost": {"type": "double"},
    },
}


def _id(customer: str, week: str) -> str:
    return f"{customer}-{week}"


def claim(
    es: Elasticsearch, index: str, customer: str, week: str, message_id: str, recipients: list[str]
) -> bool:
    """True if this run should send (nothing recorded yet, or a previous run crashed before `sent`)."""
    ensure_index(es, index, MAPPINGS)
    document = {
        "customer": customer,
        "week": week,
        "status": "sending",
        "recipients": recipients,
        "message_id": message_id,
        "claimed_at": datetime.now(UTC).isoformat(),
    }
    try:
        es.create(index=index, id=_id(customer, week), document=document, refresh="wait_for")
        return True
    except ConflictError:
        existing = es.get(index=index, id=_id(customer, week))["_source"]
        return existing.get("status") != "sent"


def mark_sent(es: Elasticsearch, index: str, customer: str, week: str, total_cost: float) -> None:
    es.update(
        index=index,
        id=_id(customer, week),
        doc={"status": "sent", "sent_at": datetime.now(UTC).isoformat(), "total_cost": total_cost},
        refresh="wait_for",
    )


def sent_weeks(es: Elasticsearch, index: str, customer: str) -> list[str]:
    if not es.indices.exists(index=index):
        return []
    body = es.search(
        index=index,
        size=1000,
        query={"bool": {"filter": [{"term": {"customer": customer}}, {"term": {"status": "sent"}}]}},
    )
    return sorted(hit["_source"]["week"] for hit in body["hits"]["hits"])
