"""Durable record of what the mailer did with each event (`finemeca-alerts-sent`, `_id` = event id).

`claim` (status `sending`) happens before SMTP; `mark_sent` after the server accepted, or
`mark_dead_lettered` after the event went to the DLQ; both before the STOMP ack. A redelivered event
whose record says `sent` or `dead-lettered` is acked without a mail. The record of an episode's fired
event also tells its resolved mail whether anybody got the leak mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from alerts.events import AlertEvent
from alerts.indices import mapping
from finemeca.es import ensure_index

SENDING, SENT, DEAD_LETTERED = "sending", "sent", "dead-lettered"


@dataclass(frozen=True)
class SentRecord:
    status: str  # sending (claimed, outcome unknown) | sent | dead-lettered
    claimed_at: datetime | None = None
    reason: str | None = None  # why it was dead-lettered


class SentStore:
    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    def ensure(self) -> None:
        ensure_index(self.es, self.index, mapping("sent"))

    def get(self, event_id: str) -> SentRecord | None:
        """None when the mailer never handled this event."""
        try:
            source = self.es.get(index=self.index, id=event_id)["_source"]
        except NotFoundError:
            return None
        claimed = source.get("claimed_at")
        return SentRecord(
            status=str(source.get("status")),
            claimed_at=datetime.fromisoformat(claimed) if claimed else None,
            reason=source.get("reason"),
        )

    def status(self, event_id: str) -> str | None:
        record = self.get(event_id)
        return record.status if record else None

    def claim(self, event: AlertEvent, message_id: str, recipients: list[str], again: bool = False) -> bool:
        """Create the record (`sending`); False if it already existed (a redelivery or another mailer).
        `again` (a re-driven event) overwrites it and restarts the give-up clock."""
        body: dict[str, Any] = {
            "event_id": event.event_id,
            "status": SENDING,
            "rule": event.rule,
            "device_key": event.device_key,
            "kind": event.kind,
            "message_id": message_id,
            "recipients": recipients,
            "claimed_at": datetime.now(UTC).isoformat(),
        }
        if again:
            self.es.index(index=self.index, id=event.event_id, document=body)
            return True
        try:
            self.es.create(index=self.index, id=event.event_id, document=body, refresh=False)
        except ConflictError:
            return False
        return True

    def mark_sent(self, event_id: str, attempts: int) -> None:
        self._update(
            event_id, {"status": SENT, "sent_at": datetime.now(UTC).isoformat(), "attempts": attempts}
        )

    def mark_dead_lettered(self, event_id: str, reason: str) -> None:
        now = datetime.now(UTC).isoformat()
        self.es.update(
            index=self.index,
            id=event_id,
            doc={"event_id": event_id, "status": DEAD_LETTERED, "dead_lettered_at": now, "reason": reason},
            doc_as_upsert=True,  # an event dead-lettered before its claim (no recipients ...) gets a record too
            retry_on_conflict=3,
        )

    def _update(self, event_id: str, doc: dict[str, Any]) -> None:
        self.es.update(index=self.index, id=event_id, doc=doc, retry_on_conflict=3)
