"""Runs the alert job every `interval`, reloading rule files each cycle (a broken file is reported once
per change and never stops the valid rules)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alerts import metrics
from alerts.catalog import load_catalog
from alerts.clock import Clock
from alerts.job import AlertJob, CycleReport
from finemeca.logs import get_logger

log = get_logger(__name__)


class Scheduler:
    def __init__(self, job: AlertJob, clock: Clock, extra_rules: list[Path] | None = None) -> None:
        self.job = job
        self.clock = clock
        self.extra_rules = extra_rules or []
        self.stop = threading.Event()
        self.last_success: datetime | None = None
        self.last_report: CycleReport | None = None
        self._reported_problems: list[str] = []

    def load_rules(self) -> list[Any]:
        catalog = load_catalog(self.job.settings, self.extra_rules)
        problems = [str(p) for p in catalog.problems]
        if problems != self._reported_problems:
            for problem in problems:
                log.error("alerts.rule_problem", problem=problem)
            self._reported_problems = problems
        metrics.RULE_PROBLEMS.set(len(problems))
        rules = [r for r in catalog.rules if r.enabled]
        metrics.RULES_LOADED.set(len(rules))
        return rules

    def run_once(self) -> CycleReport:
        rules = self.load_rules()
        report = self.job.run_cycle(rules, self.clock.now())
        self.last_report = report
        if not report.errors:
            self.last_success = datetime.now(UTC)
        log.info(
            "alerts.cycle",
            now=report.now.isoformat(),
            rules=len(rules),
            windows=report.windows,
            devices=report.devices,
            events=len(report.events),
            errors=len(report.errors),
        )
        return report

    def run_forever(self, interval_seconds: float) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.run_once()
            except Exception as exc:  # ES/ActiveMQ down: log, wait, retry
                log.error("alerts.cycle_failed", error=str(exc), exc_info=True)
            self.stop.wait(max(0.0, interval_seconds - (time.monotonic() - started)))

    def health(self) -> dict[str, object]:
        interval = self.job.settings.interval.total_seconds()
        age = (datetime.now(UTC) - self.last_success).total_seconds() if self.last_success else None
        ok = age is not None and age < max(3 * interval, 60)
        return {
            "ok": ok,
            "last_success_age_s": age,
            "rule_problems": self._reported_problems,
            "errors": self.last_report.errors if self.last_report else {},
        }
