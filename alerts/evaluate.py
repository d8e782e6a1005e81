"""The evaluation core shared by the live job and `alerts test`: one rule over one ingest slice.

Per-reading kinds (threshold): every reading indexed in the slice `[start, end)` (by `ingested_at`) is
judged once, per device in evaluation-time order (see `alerts/readings.py`), through the lifecycle.
Readings older than the late horizon build dated `occurred` events instead. Time-driven kinds (silent
device, message gaps) are judged at `now`. Reminders are ticked at `now`. Pure apart from the reads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from elasticsearch import Elasticsearch

from alerts import metrics
from alerts.lifecycle import (
    AlertState,
    Change,
    Observation,
    Policy,
    Status,
    Verdict,
    observe,
    past_episodes,
    tick,
)
from alerts.readings import Reading, candidate_devices, ingest_filter, readings_of_devices
from alerts.rule_kinds import kind_for
from alerts.rule_kinds.base import ReadingKind, TimedKind, Window
from alerts.rules import Rule
from alerts.state import Stored
from finemeca.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class TimePolicy:
    """How readings are placed in time (settings `ALERTS_LATE_HORIZON`, `ALERTS_FUTURE_TOLERANCE`)."""

    late_horizon: timedelta = timedelta(hours=1)
    future_tolerance: timedelta = timedelta(seconds=60)
    page_size: int = 2000


@dataclass
class SliceResult:
    changes: list[Change] = field(default_factory=list)
    changed: list[Stored] = field(default_factory=list)
    devices: int = 0
    readings: int = 0  # judged through the live lifecycle
    past: int = 0  # older than the late horizon: judged for `occurred` events
    healthy: int = 0  # proven healthy by their device's bounds, without fetching them
    out_of_order: int = 0  # evaluation time behind the device's last reading: judged at that time
    indexed: int = 0  # documents of the slice (per-reading kinds), to detect late-visible ones later


def policy_of(rule: Rule) -> Policy:
    return Policy(
        debounce=rule.debounce, resolve=rule.resolve, reminders=rule.reminders, flapping=rule.flapping
    )


def _essentials(state: AlertState) -> dict[str, Any]:
    return state.model_dump(exclude={"ingested_until"})


class SliceEvaluator:
    def __init__(self, es: Elasticsearch, rule: Rule, index: str, times: TimePolicy) -> None:
        self.es, self.rule, self.index, self.times = es, rule, index, times
        self.kind = kind_for(rule)
        self.per_reading = bool(getattr(self.kind, "per_reading", False))  # time-driven unless declared
        self.policy = policy_of(rule)

    def evaluate(
        self,
        states: dict[str, Stored],
        start: datetime,
        end: datetime,
        now: datetime,
        timers: bool = True,
    ) -> SliceResult:
        """`states` is read, never modified: the caller stores `result.changed` once they are durable."""
        result = SliceResult()
        touched: dict[str, AlertState] = {}
        if self.per_reading:
            self._readings(states, start, end, result, touched)
        elif timers:
            self._timed(states, now, result, touched)
        for key, stored in states.items():
            state = touched.get(key, stored.state)
            if state.status == Status.FIRING:
                touched[key], reminders = tick(state, now, self.policy)
                result.changes += reminders
        for key, state in touched.items():
            before = states.get(key)
            if before is not None and _essentials(state) == _essentials(before.state):
                continue
            state = state.model_copy(update={"ingested_until": end})
            result.changed.append(Stored(state, before.version if before else None))
        result.changes.sort(key=lambda c: (c.at, c.state.device_key, c.kind.value))
        return result

    # -- per-reading kinds --------------------------------------------------------------------------------
    def _readings(
        self,
        states: dict[str, Stored],
        start: datetime,
        end: datetime,
        result: SliceResult,
        touched: dict[str, AlertState],
    ) -> None:
        kind = cast(ReadingKind, self.kind)
        rule, page = self.rule, self.times.page_size
        query = ingest_filter(rule, start, end)
        watch = {key for key, item in states.items() if item.state.status != Status.OK}
        devices, result.healthy, result.indexed = candidate_devices(
            self.es,
            self.index,
            query,
            kind.bounds(rule),
            lambda bucket: bucket["key"]["device_key"] in watch or kind.may_breach(rule, bucket),
            page,
        )
        by_device: dict[str, list[Reading]] = defaultdict(list)
        for reading in readings_of_devices(self.es, self.index, query, devices, kind.fields(rule), page):
            by_device[reading.device_key].append(reading)
        for device_key, readings in by_device.items():
            stored = states.get(device_key)
            state = stored.state if stored else AlertState(rule=rule.name, device_key=device_key)
            if state.ingested_until is not None:  # saved just before a crash: those readings are applied
                readings = [r for r in readings if r.ingested >= state.ingested_until]
            result.devices += 1
            past = [r for r in readings if r.is_past(self.times.late_horizon)]
            live = [r for r in readings if not r.is_past(self.times.late_horizon)]
            touched[device_key] = self._live(state, live, result)
            if past:
                result.changes += self._past(device_key, past, result)
        metrics.READINGS.labels(rule.name, "live").inc(result.readings)
        metrics.READINGS.labels(rule.name, "past").inc(result.past)
        metrics.READINGS.labels(rule.name, "healthy_bounds").inc(result.healthy)

    def _judge(self, reading: Reading) -> Observation | None:
        obs = cast(ReadingKind, self.kind).judge(self.rule, reading.doc)
        if obs is None:
            metrics.READINGS.labels(self.rule.name, "no_value").inc()
        return obs

    def _live(self, state: AlertState, readings: list[Reading], result: SliceResult) -> AlertState:
        tolerance = self.times.future_tolerance
        for reading in sorted(readings, key=lambda r: (r.evaluation_time(tolerance), r.device_time)):
            obs = self._judge(reading)
            if obs is None:
                continue
            at = reading.evaluation_time(tolerance)
            values = dict(obs.values)
            if at != reading.device_time:
                values["device_time"] = reading.device_time.isoformat()
                metrics.READINGS.labels(self.rule.name, "clock_ahead").inc()
                log.warning(
                    "alerts.clock_ahead", rule=self.rule.name, device_key=reading.device_key,
                    device_time=reading.device_time.isoformat(), received_at=reading.arrived.isoformat(),
                )  # fmt: skip
            if state.last_reading_at is not None and at < state.last_reading_at:
                result.out_of_order += 1
                metrics.READINGS.labels(self.rule.name, "out_of_order").inc()
                log.info(
                    "alerts.out_of_order", rule=self.rule.name, device_key=reading.device_key,
                    device_time=reading.device_time.isoformat(), judged_at=state.last_reading_at.isoformat(),
                )  # fmt: skip
                at = state.last_reading_at
            state, changes = observe(state, replace(obs, at=at, values=values), self.policy)
            result.readings += 1
            result.changes += changes
        return state

    def _past(self, device_key: str, readings: list[Reading], result: SliceResult) -> list[Change]:
        observations = [
            replace(obs, at=reading.device_time)
            for reading in sorted(readings, key=lambda r: r.device_time)
            if (obs := self._judge(reading)) is not None
        ]
        result.past += len(observations)
        changes = past_episodes(self.rule.name, device_key, observations, self.policy)
        log.warning(
            "alerts.past_readings", rule=self.rule.name, device_key=device_key, readings=len(readings),
            device_from=readings[0].device_time.isoformat(), device_to=readings[-1].device_time.isoformat(),
            horizon=str(self.times.late_horizon), episodes=len(changes),
        )  # fmt: skip
        return changes

    def count_indexed(self, start: datetime, end: datetime) -> int:
        """Documents now visible with `ingested_at` in [start, end) (to compare with what was evaluated)."""
        response = self.es.count(
            index=self.index, query=ingest_filter(self.rule, start, end), ignore_unavailable=True,
            allow_no_indices=True,
        )  # fmt: skip
        return int(response["count"])

    # -- time-driven kinds ------------------------------------------------------------------------------------
    def _timed(
        self, states: dict[str, Stored], now: datetime, result: SliceResult, touched: dict[str, AlertState]
    ) -> None:
        kind = cast(TimedKind, self.kind)
        watch = frozenset(key for key, item in states.items() if item.state.status != Status.OK)
        window = Window(self.es, self.rule, self.index, now, now, watch, page_size=self.times.page_size)
        seen: set[str] = set()
        for device_key, observations in kind.observations(window):
            seen.add(device_key)
            stored = states.get(device_key)
            state = stored.state if stored else AlertState(rule=self.rule.name, device_key=device_key)
            for obs in observations:
                state, changes = observe(state, obs, self.policy)
                result.changes += changes
            touched[device_key] = state
        result.devices += len(seen)
        if not kind.missing_means_breach:
            return
        for device_key, stored in states.items():
            if device_key in seen or stored.state.status == Status.OK:
                continue
            obs = Observation(at=now, verdict=Verdict.BREACH, values=stored.state.last_values)
            touched[device_key], changes = observe(stored.state, obs, self.policy)
            result.changes += changes
