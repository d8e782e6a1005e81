"""Alert events (fired, reminder, resolved, occurred) with stable ids, as published to ActiveMQ and kept in ES.

`occurred`: a whole episode that started and ended while nobody watched (job down): `episode_start` is
its true start, `at` its true end, `values` a breaching reading.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from alerts.lifecycle import Change
from alerts.rules import Rule

EVENT_NAMESPACE = uuid.UUID("5b0f3f0e-4c1e-4a55-9a44-2f4f0d6c8e11")
EventKind = Literal["fired", "reminder", "resolved", "occurred"]
RECOVERED_KINDS = frozenset({"resolved"})  # kinds whose `values` are the reading that healed the episode
NEGATED_OP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def event_id(rule: str, device_key: str, episode_start: datetime, kind: str, number: int = 0) -> str:
    """Deterministic: the same transition always gets the same id, whichever process computes it."""
    key = f"{rule}|{device_key}|{episode_start.isoformat()}|{kind}|{number}"
    return str(uuid.uuid5(EVENT_NAMESPACE, key))


class AlertEvent(BaseModel):
    event_id: str
    kind: EventKind
    rule: str
    rule_kind: str
    sensor: str
    severity: str
    description: str = ""
    device_key: str
    device_name: str | None = None
    line: str | None = None
    customer: str | None = None
    at: datetime = Field(description="when the transition happened (data time)")
    episode_start: datetime = Field(description="first breaching reading of this episode")
    reminder_number: int = 0
    values: dict[str, Any] = Field(default_factory=dict)
    recipients: list[str] = Field(default_factory=list)
    generated_at: datetime | None = None

    @classmethod
    def from_change(cls, rule: Rule, change: Change, generated_at: datetime | None = None) -> AlertEvent:
        state = change.state
        ctx = state.context
        return cls(
            event_id=event_id(
                rule.name, state.device_key, change.episode_start, change.kind.value, change.number
            ),
            kind=change.kind.value,
            rule=rule.name,
            rule_kind=rule.kind,
            sensor=rule.sensor,
            severity=rule.severity,
            description=rule.description,
            device_key=state.device_key,
            device_name=ctx.get("device_name"),
            line=ctx.get("line"),
            customer=ctx.get("customer"),
            at=change.at,
            episode_start=change.episode_start,
            reminder_number=change.number,
            values=dict(state.last_values),
            recipients=list(rule.recipients),
            generated_at=generated_at,
        )

    def observed_values(self) -> dict[str, Any]:
        """`values` with `op` the comparison that held for that reading: the rule's own for a breaching
        reading, its negation for the recovered one (`pressure 6.35 >= opening_pressure 5.8`)."""
        op = self.values.get("op")
        if self.kind in RECOVERED_KINDS and isinstance(op, str) and op in NEGATED_OP:
            return {**self.values, "op": NEGATED_OP[op]}
        return dict(self.values)

    def fired_event_id(self) -> str:
        """Id of the `fired` event of this event's episode (what reminders and the resolution reply to)."""
        return event_id(self.rule, self.device_key, self.episode_start, "fired", 0)

    def resolved_event_id(self) -> str:
        """Id of the `resolved` event of this event's episode."""
        return event_id(self.rule, self.device_key, self.episode_start, "resolved", 0)

    def to_json(self) -> str:
        return self.model_dump_json()
