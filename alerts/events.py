"""Alert events with stable ids, as published to ActiveMQ and kept in ES.

Kinds: `fired`, `reminder`, `resolved` (live episode); `occurred` (a whole episode found in readings older
than the late horizon: one dated event with start, end, duration); `flapping` (the line crosses its
threshold too often: no leak/resolved events until it settles) and `settled`.
"""

from __future__ import annotations

import operator
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from alerts.lifecycle import Change
from alerts.rules import Rule

EVENT_NAMESPACE = uuid.UUID("5b0f3f0e-4c1e-4a55-9a44-2f4f0d6c8e11")
EventKind = Literal["fired", "reminder", "resolved", "occurred", "flapping", "settled"]
NEGATED_OP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_HOLDS = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}  # fmt: skip


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
    episode_end: datetime | None = Field(
        default=None,
        description="resolved/occurred: first healthy reading (occurred: the last breaching one when the "
        "late data ends while breaching); settled: start of the steady run",
    )
    duration_s: float | None = Field(default=None, description="episode_end - episode_start, seconds")
    flaps: int | None = Field(default=None, description="flapping/settled: crossings within the window")
    flap_window_s: float | None = Field(default=None, description="flapping/settled: that window, seconds")
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
            episode_end=change.end,
            duration_s=(change.end - change.episode_start).total_seconds() if change.end else None,
            flaps=change.flaps,
            flap_window_s=rule.flapping.window.total_seconds() if change.flaps is not None else None,
            reminder_number=change.number,
            values=dict(state.last_values),
            recipients=list(rule.recipients),
            generated_at=generated_at,
        )

    def observed_values(self) -> dict[str, Any]:
        """`values` with `op` the comparison that held for that reading, checked on the numbers: the
        rule's own for a breaching reading, its negation for a healthy one (`pressure 6.35 >= opening_pressure
        5.8`), whatever the event kind."""
        op = self.values.get("op")
        numbers = [v for k, v in self.values.items() if k not in ("op", "unit")]
        if op not in _HOLDS or len(numbers) != 2 or not all(isinstance(n, int | float) for n in numbers):
            return dict(self.values)
        return {**self.values, "op": op if _HOLDS[op](*numbers) else NEGATED_OP[op]}

    def fired_event_id(self) -> str:
        """Id of the `fired` event of this event's episode (what reminders and the resolution reply to)."""
        return event_id(self.rule, self.device_key, self.episode_start, "fired", 0)

    def resolved_event_id(self) -> str:
        """Id of the `resolved` event of this event's episode."""
        return event_id(self.rule, self.device_key, self.episode_start, "resolved", 0)

    def to_json(self) -> str:
        return self.model_dump_json()
