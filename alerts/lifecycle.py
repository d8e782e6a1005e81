"""Pure alert lifecycle per (rule, device): ok -> pending -> firing -> (resolved) ok.

No I/O and no clock: every function takes the reading time or `now` and returns the new state plus the
transitions to announce. Flapping is damped three ways: debounce before firing (N readings / duration),
hysteresis in the rule kind (a *marginal* reading neither breaches nor heals), and a resolve policy
(N healthy readings lasting D, never before `min_firing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from alerts.rules import Debounce, Reminders, Resolve

MAX_COALESCED_REMINDERS = 1000  # bound on the loop that skips reminders missed while the job was down


class Verdict(StrEnum):
    BREACH = "breach"
    OK = "ok"
    MARGINAL = "marginal"  # inside the hysteresis band: keeps the current status


class Status(StrEnum):
    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"


class Transition(StrEnum):
    FIRED = "fired"
    REMINDER = "reminder"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Observation:
    """One reading of one device judged by a rule kind."""

    at: datetime
    verdict: Verdict
    values: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # device_name, line, customer ...


class AlertState(BaseModel):
    """What must survive a restart for one (rule, device)."""

    rule: str
    device_key: str
    status: Status = Status.OK
    breach_since: datetime | None = None
    breach_readings: int = 0
    episode_start: datetime | None = None
    fired_at: datetime | None = None
    recovery_since: datetime | None = None
    recovery_readings: int = 0
    reminders_sent: int = 0
    last_notified_at: datetime | None = None
    last_resolved_at: datetime | None = None
    last_values: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    evaluated_until: datetime | None = None


@dataclass(frozen=True)
class Policy:
    debounce: Debounce
    resolve: Resolve
    reminders: Reminders


@dataclass(frozen=True)
class Change:
    """A transition to announce: turned into an AlertEvent (with a stable id) by the caller."""

    kind: Transition
    at: datetime
    episode_start: datetime
    number: int
    state: AlertState


def observe(state: AlertState, obs: Observation, policy: Policy) -> tuple[AlertState, list[Change]]:
    """Apply one reading (readings must come in time order)."""
    s = state.model_copy(deep=True)
    s.context = {**s.context, **obs.context}
    if obs.values:
        s.last_values = dict(obs.values)
    if s.status == Status.FIRING:
        return _observe_firing(s, obs, policy)
    if obs.verdict != Verdict.BREACH:
        s.status, s.breach_since, s.breach_readings = Status.OK, None, 0
        return s, []
    if s.status == Status.OK:
        s.status, s.breach_since, s.breach_readings = Status.PENDING, obs.at, 0
    s.breach_readings += 1
    assert s.breach_since is not None
    held = obs.at - s.breach_since
    if s.breach_readings >= policy.debounce.readings and held >= policy.debounce.duration:
        s.status = Status.FIRING
        s.episode_start, s.fired_at, s.last_notified_at = s.breach_since, obs.at, obs.at
        s.reminders_sent, s.recovery_since, s.recovery_readings = 0, None, 0
        return s, [Change(Transition.FIRED, obs.at, s.breach_since, 0, s)]
    return s, []


def _observe_firing(s: AlertState, obs: Observation, policy: Policy) -> tuple[AlertState, list[Change]]:
    if obs.verdict != Verdict.OK:
        s.recovery_since, s.recovery_readings = None, 0
        return s, []
    if s.recovery_since is None:
        s.recovery_since = obs.at
    s.recovery_readings += 1
    assert s.fired_at is not None and s.episode_start is not None
    healed = (
        s.recovery_readings >= policy.resolve.readings
        and obs.at - s.recovery_since >= policy.resolve.duration
        and obs.at - s.fired_at >= policy.resolve.min_firing
    )
    if not healed:
        return s, []
    episode = s.episode_start
    resolved = s.model_copy(deep=True)
    s.status = Status.OK
    s.breach_since = s.episode_start = s.fired_at = s.recovery_since = s.last_notified_at = None
    s.breach_readings = s.recovery_readings = s.reminders_sent = 0
    s.last_resolved_at = obs.at
    return s, [Change(Transition.RESOLVED, obs.at, episode, 0, resolved)]


def tick(state: AlertState, now: datetime, policy: Policy) -> tuple[AlertState, list[Change]]:
    """Reminders while firing. Reminders missed while the job was down collapse into the latest one."""
    if state.status != Status.FIRING or not policy.reminders.enabled:
        return state, []
    assert state.last_notified_at is not None and state.episode_start is not None
    number, due = state.reminders_sent, state.last_notified_at
    for _ in range(MAX_COALESCED_REMINDERS):
        next_due = due + policy.reminders.interval(number + 1)
        if next_due > now:
            break
        number, due = number + 1, next_due
    if number == state.reminders_sent:
        return state, []
    s = state.model_copy(update={"reminders_sent": number, "last_notified_at": due})
    return s, [Change(Transition.REMINDER, now, state.episode_start, number, s)]
