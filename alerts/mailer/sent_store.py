"""Durable record of mailed events (`finemeca-alerts-sent`, `_id` = event id).

`claim` (op_type=create, status `sending`) happens before SMTP, `mark_sent` after the server accepted
and before the STOMP ack. A redelivered event whose record says `sent` is acked without a mail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from alerts.events import AlertEvent
from alerts.indices import mapping
from finemeca.es import ensure_index


class SentStore:
    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    def ensure(self) -> None:
        ensure_index(self.es, self.index, mapping("sent"))

    def status(self, event_id: str) -> str | None:
        """None (never seen), 'sending' (claimed, outcome unknown) or 'sent'."""
        try:
            doc = self.es.get(index=self.index, id=event_id)
        except NotFoundError:
            return None
        return str(doc["_source"].get("status"))

    def claim(self, event: AlertEvent, message_id: str, recipients: list[str]) -> bool:
        """Create the record; False if it already existed (a redelivery or another mailer)."""
        body: dict[str, Any] = {
            "event_id": event.event_id,
            "status": "sending",
            "rule": event.rule,
            "device_key": event.device_key,
            "kind": event.kind,
            "message_id": message_id,
            "recipients": recipients,
            "claimed_at": datetime.now(UTC).isoformat(),
        }
        try:
            self.es.create(index=self.index, id=event.event_id, document=body, refresh=False)
        except ConflictError:
            return False
        return True

    def mark_sent(self, event_id: str, attempts: int) -> None:
        self.es.update(
            index=self.index,
            id=event_id,
            doc={"status": "sent", "sent_at": datetime.now(UTC).isoformat(), "attempts": attempts},
            retry_on_conflict=3,
        )
