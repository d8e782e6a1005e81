"""Pure alert lifecycle per (rule, device): ok -> pending -> firing -> (resolved) ok, plus flapping.

No I/O and no clock: every function takes the reading time or `now` and returns the new state plus the
transitions to announce. Damping: debounce before firing (N readings / duration), hysteresis in the rule
kind (a *marginal* reading neither breaches nor heals), a resolve policy (N healthy readings lasting D,
never before `min_firing`), and flapping: more than N crossings within a window turn the device into
`flapping` (one event, no leak/resolved events) until it kept one side for `settle` (one event).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from alerts.flapping import Flapping
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
    FLAPPING = "flapping"


class Transition(StrEnum):
    FIRED = "fired"
    REMINDER = "reminder"
    RESOLVED = "resolved"
    FLAPPING = "flapping"
    SETTLED = "settled"
    OCCURRED = "occurred"  # a whole episode found in readings older than the late horizon


@dataclass(frozen=True)
class Observation:
    """One reading of one device judged by a rule kind. `at` is the evaluation time of the reading (device
    time, or receive time for a clock ahead); `since`, when set, is when the condition began (silence)."""

    at: datetime
    verdict: Verdict
    values: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # device_name, line, customer ...
    since: datetime | None = None


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
    # flapping: the last clear verdict, the current run of equal verdicts and recent crossings
    last_verdict: Verdict | None = None
    run_since: datetime | None = None
    run_readings: int = 0
    crossings: list[datetime] = Field(default_factory=list)
    flapping_since: datetime | None = None
    # bookkeeping of the job: last reading applied, and the ingest watermark this state includes
    last_reading_at: datetime | None = None
    ingested_until: datetime | None = None


@dataclass(frozen=True)
class Policy:
    debounce: Debounce
    resolve: Resolve
    reminders: Reminders
    flapping: Flapping = field(default_factory=Flapping)


@dataclass(frozen=True)
class Change:
    """A transition to announce: turned into an AlertEvent (with a stable id) by the caller."""

    kind: Transition
    at: datetime
    episode_start: datetime
    number: int
    state: AlertState
    end: datetime | None = None  # resolved / settled / occurred: when the episode ended
    flaps: int | None = None  # flapping / settled: crossings seen within the window


def observe(state: AlertState, obs: Observation, policy: Policy) -> tuple[AlertState, list[Change]]:
    """Apply one reading (readings must come in time order)."""
    s = state.model_copy(deep=True)
    s.context = {**s.context, **obs.context}
    if obs.values:
        s.last_values = dict(obs.values)
    s.last_reading_at = obs.at
    _track_crossings(s, obs, policy.flapping)
    if s.status == Status.FLAPPING:
        return _observe_flapping(s, obs, policy)
    if policy.flapping.enabled and len(s.crossings) > policy.flapping.crossings:
        return _start_flapping(s, obs)
    if s.status == Status.FIRING:
        return _observe_firing(s, obs, policy)
    if obs.verdict != Verdict.BREACH:
        s.status, s.breach_since, s.breach_readings = Status.OK, None, 0
        return s, []
    if s.status == Status.OK:
        s.status, s.breach_since, s.breach_readings = Status.PENDING, obs.since or obs.at, 0
    s.breach_readings += 1
    return s, _maybe_fire(s, obs.at, policy)


def _maybe_fire(s: AlertState, at: datetime, policy: Policy) -> list[Change]:
    assert s.breach_since is not None
    held = at - s.breach_since
    if s.breach_readings < policy.debounce.readings or held < policy.debounce.duration:
        return []
    s.status = Status.FIRING
    s.episode_start, s.fired_at, s.last_notified_at = s.breach_since, at, at
    s.reminders_sent, s.recovery_since, s.recovery_readings = 0, None, 0
    return [Change(Transition.FIRED, at, s.breach_since, 0, s.model_copy(deep=True))]


def _track_crossings(s: AlertState, obs: Observation, flapping: Flapping) -> None:
    """A crossing = a clear verdict different from the previous clear one (marginal readings are neither)."""
    if obs.verdict == Verdict.MARGINAL:
        return
    if s.last_verdict is not None and obs.verdict != s.last_verdict:
        s.crossings.append(obs.at)
        s.run_since, s.run_readings = obs.at, 0
    elif s.run_since is None:
        s.run_since = obs.since or obs.at
    s.run_readings += 1
    s.last_verdict = obs.verdict
    s.crossings = [at for at in s.crossings if obs.at - at <= flapping.window][-(flapping.crossings + 1) :]


def _start_flapping(s: AlertState, obs: Observation) -> tuple[AlertState, list[Change]]:
    flaps = len(s.crossings)
    s.status, s.flapping_since = Status.FLAPPING, s.crossings[0]
    s.breach_since = s.episode_start = s.fired_at = s.recovery_since = s.last_notified_at = None
    s.breach_readings = s.recovery_readings = s.reminders_sent = 0
    return s, [Change(Transition.FLAPPING, obs.at, s.flapping_since, 0, s.model_copy(deep=True), flaps=flaps)]


def _observe_flapping(s: AlertState, obs: Observation, policy: Policy) -> tuple[AlertState, list[Change]]:
    assert s.flapping_since is not None and s.run_since is not None
    if obs.verdict == Verdict.MARGINAL or obs.at - s.run_since < policy.flapping.settle:
        return s, []
    settled = Change(
        Transition.SETTLED, obs.at, s.flapping_since, 0, s.model_copy(deep=True), end=s.run_since,
        flaps=len(s.crossings),
    )  # fmt: skip
    s.flapping_since, s.crossings = None, []
    s.status, s.breach_since, s.breach_readings = Status.OK, None, 0
    if s.last_verdict != Verdict.BREACH:
        return s, [settled]
    # settled on the breaching side: the leak is real, announce it now (the run already met the debounce?)
    s.status, s.breach_since, s.breach_readings = Status.PENDING, s.run_since, s.run_readings
    return s, [settled, *_maybe_fire(s, obs.at, policy)]


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
    episode, ended = s.episode_start, s.recovery_since
    resolved = s.model_copy(deep=True)
    s.status = Status.OK
    s.breach_since = s.episode_start = s.fired_at = s.recovery_since = s.last_notified_at = None
    s.breach_readings = s.recovery_readings = s.reminders_sent = 0
    s.last_resolved_at = obs.at
    return s, [Change(Transition.RESOLVED, obs.at, episode, 0, resolved, end=ended)]


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


def past_episodes(
    rule: str, device_key: str, observations: list[Observation], policy: Policy
) -> list[Change]:
    """Readings older than the late horizon: a throw-away lifecycle from `ok` finds the episodes; each one
    becomes a single dated `occurred` change (start, end, duration). The live state is not touched."""
    no_flap = replace(policy, flapping=policy.flapping.model_copy(update={"enabled": False}))
    state = AlertState(rule=rule, device_key=device_key)
    found: list[Change] = []
    fired: Change | None = None
    last_breach: datetime | None = None
    for obs in observations:
        state, changes = observe(state, obs, no_flap)
        if obs.verdict == Verdict.BREACH:
            last_breach = obs.at
        for change in changes:
            if change.kind == Transition.FIRED:
                fired = change
            elif change.kind == Transition.RESOLVED and fired is not None:
                found.append(_occurred(fired, change.end or change.at, change.state))
                fired = None
    if fired is not None and last_breach is not None:  # the stored past ends while still breaching
        found.append(_occurred(fired, last_breach, state))
    return found


def _occurred(fired: Change, end: datetime, state: AlertState) -> Change:
    return Change(Transition.OCCURRED, fired.episode_start, fired.episode_start, 0, state, end=end)
