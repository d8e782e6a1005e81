"""One weekly run: per customer, build the report, then write it (dry run) or send it once."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from elasticsearch import Elasticsearch

from finemeca.config import SmtpSettings
from finemeca.logs import get_logger
from finemeca.mail import deliver
from finemeca.retry import RetryPolicy
from report import sent
from report.chart import pressure_chart
from report.costs import ReportConfig
from report.data import WeeklyReport, build_report, pressure_series
from report.render import build_message, message_id
from report.settings import ReportSettings
from report.week import Week, last_full_week, parse_week

log = get_logger(__name__)
SMTP_RETRY = RetryPolicy(initial=1.0, cap=60.0, max_attempts=5)  # then the run fails; the loop retries later


@dataclass
class Outcome:
    customer: str
    week: str
    status: str  # "sent", "already sent", "written"
    detail: str = ""


def chart_for(es: Elasticsearch, settings: ReportSettings, report: WeeklyReport) -> bytes | None:
    line = report.chart_line
    if line is None:
        return None
    series = pressure_series(es, settings, report.customer, line.device_key, report.week)
    return pressure_chart(
        line.line, series, line.episodes, report.week.start, report.week.end, report.week.timezone
    )


def run_weekly(
    es: Elasticsearch,
    config: ReportConfig,
    settings: ReportSettings,
    smtp: SmtpSettings,
    week: str | None = None,
    customers: list[str] | None = None,
    dry_run_dir: Path | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    outcomes = []
    for name in customers or sorted(config.customers):
        customer = config.customers[name]
        target: Week = (
            parse_week(week, customer.timezone)
            if week
            else last_full_week(now or datetime.now(UTC), customer.timezone)
        )
        mid = message_id(name, target.label, settings.message_id_domain)
        if dry_run_dir is None and not sent.claim(
            es, settings.sent_index_name(), name, target.label, mid, customer.recipients
        ):
            log.info("report.already_sent", customer=name, week=target.label)
            outcomes.append(Outcome(name, target.label, "already sent"))
            continue
        report = build_report(es, config, settings, name, target)
        message = build_message(
            report,
            customer.recipients,
            settings.sender or smtp.sender,
            settings.message_id_domain,
            chart_for(es, settings, report),
        )
        if dry_run_dir is not None:
            outcomes.append(
                Outcome(name, target.label, "written", str(write_files(dry_run_dir, report, message)))
            )
            continue
        deliver(functools.partial(_same, message), smtp, SMTP_RETRY, name="report.smtp")
        sent.mark_sent(es, settings.sent_index_name(), name, target.label, report.total_cost)
        log.info("report.sent", customer=name, week=target.label, recipients=len(customer.recipients))
        outcomes.append(Outcome(name, target.label, "sent", ", ".join(customer.recipients)))
    return outcomes


def _same(message: EmailMessage) -> EmailMessage:
    return message


def write_files(directory: Path, report: WeeklyReport, message: EmailMessage) -> Path:
    """`<customer>-<week>.txt`, `.html` (chart as a file beside it) and `.eml`."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"{report.customer}-{report.week.label}"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    stem.with_suffix(".txt").write_text(text.get_content(), encoding="utf-8")
    page = html.get_content()
    for part in message.walk():
        if part.get_content_type() == "image/png":
            chart = stem.parent / f"{stem.name}-chart.png"
            chart.write_bytes(part.get_content())
            page = page.replace("cid:leak-chart", chart.name)
    stem.with_suffix(".html").write_text(page, encoding="utf-8")
    stem.with_suffix(".eml").write_bytes(message.as_bytes())
    return stem.with_suffix(".html")
