"""One rule over one window [start, end): readings per device through the lifecycle, reminders at `end`.

Pure apart from the rule kind's Elasticsearch query. A state already evaluated up to `end` (written just
before a crash) is skipped, so replaying a window never counts a reading twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elasticsearch import Elasticsearch

from alerts.lifecycle import AlertState, Change, Observation, Policy, Status, Verdict, observe, tick
from alerts.rule_kinds import kind_for
from alerts.rule_kinds.base import Window
from alerts.rules import Rule
from alerts.state import Stored


@dataclass
class WindowResult:
    changes: list[Change] = field(default_factory=list)
    changed: list[Stored] = field(default_factory=list)
    devices: int = 0


def policy_of(rule: Rule) -> Policy:
    return Policy(debounce=rule.debounce, resolve=rule.resolve, reminders=rule.reminders)


def _essentials(state: AlertState) -> dict[str, Any]:
    return state.model_dump(exclude={"evaluated_until"})


def advance(
    stored: Stored | None,
    rule: Rule,
    device_key: str,
    observations: list[Observation],
    end: datetime,
    policy: Policy,
) -> tuple[Stored | None, list[Change]]:
    """Apply a device's readings then reminders; returns the state to save (None if unchanged)."""
    before = stored.state if stored else AlertState(rule=rule.name, device_key=device_key)
    if before.evaluated_until is not None and before.evaluated_until >= end:
        return None, []
    state, changes = before, []
    for obs in observations:
        state, new = observe(state, obs, policy)
        changes += new
    state, reminders = tick(state, end, policy)
    changes += reminders
    if _essentials(state) == _essentials(before):
        return None, changes
    state = state.model_copy(update={"evaluated_until": end})
    return Stored(state, stored.version if stored else None), changes


def evaluate_window(
    es: Elasticsearch,
    rule: Rule,
    index: str,
    states: dict[str, Stored],
    start: datetime,
    end: datetime,
    top_hits: int,
    page_size: int,
) -> WindowResult:
    kind = kind_for(rule)
    policy = policy_of(rule)
    result = WindowResult()
    seen: set[str] = set()
    watch = frozenset(key for key, item in states.items() if item.state.status != Status.OK)
    window = Window(es, rule, index, start, end, watch, top_hits, page_size)
    for device_key, observations in kind.observations(window):
        seen.add(device_key)
        result.devices += 1
        to_save, changes = advance(states.get(device_key), rule, device_key, observations, end, policy)
        result.changes += changes
        if to_save:
            result.changed.append(to_save)
    for device_key, stored in states.items():
        if device_key in seen or stored.state.status == Status.OK:
            continue
        readings = []
        if kind.missing_means_breach:
            readings = [Observation(at=end, verdict=Verdict.BREACH, values=stored.state.last_values)]
        to_save, changes = advance(stored, rule, device_key, readings, end, policy)
        result.changes += changes
        if to_save:
            result.changed.append(to_save)
    result.changes.sort(key=lambda c: (c.at, c.state.device_key))
    return result
