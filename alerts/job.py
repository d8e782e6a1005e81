"""The alert job: for each rule, evaluate [watermark, now - delay] window by window, in order.

Per window the order is: publish events (durable in ActiveMQ) -> history -> states -> watermark. A crash
anywhere replays the window from the old watermark with the old states and yields the same events with
the same ids: at worst a duplicate the mailer drops, never a lost event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from alerts import metrics
from alerts.evaluate import evaluate_window
from alerts.events import AlertEvent
from alerts.history import HistoryWriter
from alerts.lifecycle import Status
from alerts.publisher import EventPublisher
from alerts.rules import Rule
from alerts.settings import AlertSettings
from alerts.state import StateStore, Stored, Version
from finemeca.logs import get_logger

log = get_logger(__name__)


@dataclass
class RuleCursor:
    """What the job keeps in memory per rule between cycles (reloaded from ES at start)."""

    states: dict[str, Stored]
    watermark: datetime | None
    version: Version | None


@dataclass
class CycleReport:
    now: datetime
    windows: int = 0
    devices: int = 0
    events: list[AlertEvent] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


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

    def run_rule(self, rule: Rule, now: datetime, report: CycleReport) -> None:
        s = self.settings
        cursor = self._cursor(rule)
        target = now - s.ingest_delay
        start = cursor.watermark or target - s.first_lookback
        if target - start > s.max_catch_up:
            log.warning(
                "alerts.catch_up_truncated", rule=rule.name, from_=start.isoformat(), max=str(s.max_catch_up)
            )
            start = target - s.max_catch_up
        index = rule.index or s.data_index_for(rule.sensor)
        while start < target:
            end = min(start + s.catch_up_step, target)
            self.run_window(rule, index, cursor, start, end, report)
            start = end
        metrics.LAG.labels(rule.name).set((now - (cursor.watermark or now)).total_seconds())
        metrics.FIRING.labels(rule.name).set(
            sum(1 for st in cursor.states.values() if st.state.status == Status.FIRING)
        )

    def run_window(
        self, rule: Rule, index: str, cursor: RuleCursor, start: datetime, end: datetime, report: CycleReport
    ) -> None:
        s = self.settings
        result = evaluate_window(self.es, rule, index, cursor.states, start, end, s.top_hits, s.page_size)
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
        cursor.version = self.store.save_watermark(rule.name, end, cursor.version)  # 4.
        cursor.watermark = end
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
        report.events += events
