"""The alert job: for each rule, follow the data in the order it was indexed, slice by slice.

A slice is `ingested_at` in `[watermark, now - margin)`, margin = the index's refresh interval plus
`ALERTS_INGEST_SLACK`: what the ingestor stamped before that instant is searchable. Per slice the order
is: publish events (durable in ActiveMQ) -> history -> states (each carries the slice end) -> watermark.
A crash anywhere replays the slice from the old watermark; states saved for it skip the readings they
already include, so no reading counts twice, and the same transitions give the same event ids: at worst a
duplicate the mailer drops, never a lost event.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from alerts import metrics
from alerts.durations import parse_duration
from alerts.evaluate import SliceEvaluator, TimePolicy
from alerts.events import AlertEvent
from alerts.history import HistoryWriter
from alerts.lifecycle import Status
from alerts.publisher import EventPublisher
from alerts.rules import Rule
from alerts.settings import AlertSettings
from alerts.state import StateStore, Stored, Version
from finemeca.logs import get_logger

log = get_logger(__name__)
DEFAULT_REFRESH = timedelta(seconds=1)  # Elasticsearch's default index.refresh_interval


@dataclass
class RuleCursor:
    """What the job keeps in memory per rule between cycles (reloaded from ES at start)."""

    states: dict[str, Stored]
    watermark: datetime | None
    version: Version | None
    timers_at: datetime | None = None  # last time the time-driven kinds were judged
    # recent slices (start, end, documents evaluated): a later recount shows documents that became
    # searchable only after their slice was done (a bulk slower than the margin)
    recent: deque[tuple[datetime, datetime, int]] = field(default_factory=deque)


@dataclass
class CycleReport:
    now: datetime
    windows: int = 0
    devices: int = 0
    readings: int = 0
    events: list[AlertEvent] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def refresh_interval(es: Elasticsearch, index: str) -> timedelta:
    """The longest refresh interval among the indices behind `index` (a refresh of -1 counts as 30 s)."""
    settings = es.indices.get_settings(
        index=index, name="index.refresh_interval", include_defaults=True, ignore_unavailable=True,
        allow_no_indices=True,
    )  # fmt: skip
    longest = timedelta(0)
    for body in dict(settings).values():
        value = (body.get("settings") or {}).get("index", {}).get("refresh_interval") or (
            body.get("defaults") or {}
        ).get("index", {}).get("refresh_interval")
        if value is None:
            continue
        interval = timedelta(seconds=30) if str(value) == "-1" else parse_duration(str(value))
        longest = max(longest, interval)
    return longest or DEFAULT_REFRESH


class AlertJob:
    def __init__(
        self,
        es: Elasticsearch,
        publisher: EventPublisher,
        settings: AlertSettings | None = None,
    ) -> None:
        self.es = es
        self.publisher = publisher
        self.settings = settings or AlertSettings()
        self.store = StateStore(es, self.settings.state_index)
        self.history = HistoryWriter(es, self.settings.history_index)
        self.cursors: dict[str, RuleCursor] = {}
        self._margins: dict[str, tuple[datetime, timedelta]] = {}
        s = self.settings
        self.times = TimePolicy(s.late_horizon, s.future_tolerance, s.page_size)

    def ensure_indices(self) -> None:
        self.store.ensure()
        self.history.ensure()

    def run_cycle(self, rules: list[Rule], now: datetime) -> CycleReport:
        report = CycleReport(now=now)
        with metrics.CYCLE_SECONDS.time():
            for rule in rules:
                if not rule.enabled:
                    continue
                try:
                    self.run_rule(rule, now, report)
                except Exception as exc:  # one failing rule never stops the others
                    metrics.RULE_ERRORS.labels(rule.name).inc()
                    report.errors[rule.name] = f"{type(exc).__name__}: {exc}"
                    self.cursors.pop(rule.name, None)  # reload from ES next time
                    log.error("alerts.rule_failed", rule=rule.name, error=str(exc), exc_info=True)
        return report

    def _cursor(self, rule: Rule) -> RuleCursor:
        cursor = self.cursors.get(rule.name)
        if cursor is None:
            watermark, version = self.store.load_watermark(rule.name)
            cursor = RuleCursor(self.store.load_states(rule.name), watermark, version)
            self.cursors[rule.name] = cursor
        return cursor

    def margin(self, index: str) -> timedelta:
        """Refresh interval (re-read every 5 minutes) + slack: what was stamped before is searchable."""
        checked = self._margins.get(index)
        wall = datetime.now(UTC)
        if checked is None or wall - checked[0] > timedelta(minutes=5):
            checked = (wall, refresh_interval(self.es, index))
            self._margins[index] = checked
        return checked[1] + self.settings.ingest_slack

    def run_rule(self, rule: Rule, now: datetime, report: CycleReport) -> None:
        s = self.settings
        cursor = self._cursor(rule)
        index = rule.index or s.data_index_for(rule.sensor)
        target = now - self.margin(index)
        start = cursor.watermark or target - s.first_lookback
        if target - start > s.max_catch_up:
            metrics.CATCH_UP_TRUNCATED.labels(rule.name).inc()
            log.warning(
                "alerts.catch_up_truncated", rule=rule.name, from_=start.isoformat(), max=str(s.max_catch_up),
                note="readings indexed before the new start are not evaluated by this rule",
            )  # fmt: skip
            start = target - s.max_catch_up
        evaluator = SliceEvaluator(self.es, rule, index, self.times)
        if evaluator.per_reading:
            self.check_late_visible(rule, evaluator, cursor)
        due = cursor.timers_at is None or now - cursor.timers_at >= s.timer_interval
        while True:
            end = max(start, min(start + s.catch_up_step, target))
            last = end >= target
            slice_now = now if last else end + (now - target)
            self.run_slice(rule, evaluator, cursor, start, end, slice_now, due and last, report)
            start = end
            if last:
                break
        if due:
            cursor.timers_at = now
        metrics.LAG.labels(rule.name).set((now - (cursor.watermark or now)).total_seconds())
        metrics.FIRING.labels(rule.name).set(
            sum(1 for st in cursor.states.values() if st.state.status == Status.FIRING)
        )

    def check_late_visible(self, rule: Rule, evaluator: SliceEvaluator, cursor: RuleCursor) -> None:
        """Documents stamped before the watermark but searchable only now were never evaluated: say so
        (log + counter `late_visible`) so that the margin (`ALERTS_INGEST_SLACK`) can be raised."""
        if not cursor.recent:
            return
        start, end = cursor.recent[0][0], cursor.recent[-1][1]
        evaluated = sum(count for _, _, count in cursor.recent)
        missed = evaluator.count_indexed(start, end) - evaluated
        if missed > 0:
            metrics.READINGS.labels(rule.name, "late_visible").inc(missed)
            log.error(
                "alerts.late_visible", rule=rule.name, documents=missed, ingested_from=start.isoformat(),
                ingested_to=end.isoformat(), what_to_do="raise ALERTS_INGEST_SLACK above the ingestor's "
                "bulk duration; these readings were not evaluated",
            )  # fmt: skip
            first = cursor.recent.popleft()
            cursor.recent.appendleft((first[0], first[1], first[2] + missed))  # reported once

    def run_slice(
        self,
        rule: Rule,
        evaluator: SliceEvaluator,
        cursor: RuleCursor,
        start: datetime,
        end: datetime,
        now: datetime,
        timers: bool,
        report: CycleReport,
    ) -> None:
        result = evaluator.evaluate(cursor.states, start, end, now, timers)
        generated = datetime.now(UTC)
        events = [AlertEvent.from_change(rule, change, generated) for change in result.changes]
        self.publisher.publish(events)  # 1. durable in ActiveMQ before anything is marked done
        self.history.record(events)  # 2. idempotent (_id = event id)
        saved, conflicts = self.store.save_states(result.changed)  # 3.
        for item in saved:
            cursor.states[item.state.device_key] = item
        for device_key in conflicts:  # someone else wrote it: take their version
            fresh = self.store.load_state(rule.name, device_key)
            if fresh:
                cursor.states[device_key] = fresh
        if end != cursor.watermark:
            cursor.version = self.store.save_watermark(rule.name, end, cursor.version)  # 4.
            cursor.watermark = end
        if evaluator.per_reading and end > start:
            cursor.recent.append((start, end, result.indexed))
            while cursor.recent and end - cursor.recent[0][0] > self.settings.recheck:
                cursor.recent.popleft()
        for event in events:
            metrics.EVENTS.labels(rule.name, event.kind).inc()
            log.info(
                "alerts.event",
                event_id=event.event_id,
                kind=event.kind,
                rule=rule.name,
                device_key=event.device_key,
                at=event.at.isoformat(),
            )
        report.windows += 1
        report.devices += result.devices
        report.readings += result.readings + result.past + result.healthy
        report.events += events
