"""The weekly mail: multipart (text + HTML with the chart inline as a `cid:` image) from Jinja2 templates.

Same conventions as the alert mails: autoescaped HTML, StrictUndefined, header values on one line.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from report.data import WeeklyReport

TEMPLATES = Path(__file__).parent / "templates"
CHART_CID = "leak-chart"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def one_line(value: object, limit: int = 200) -> str:
    return " ".join(_CONTROL.sub(" ", str(value)).split())[:limit]


def hours(value: timedelta) -> str:
    """`3 h 05 min` (minutes rounded down), `42 s` under a minute, `0 min` for nothing."""
    minutes = int(value.total_seconds() // 60)
    if minutes == 0 and value.total_seconds() >= 1:
        return f"{int(value.total_seconds())} s"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def change(now: float, before: float) -> str:
    if before == 0:
        return "new" if now else "="
    return f"{(now - before) / before:+.0%}"


_env.filters["hours"] = hours


def context(report: WeeklyReport) -> dict[str, Any]:
    zone = ZoneInfo(report.week.timezone)

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%a %d %b %H:%M")

    return {
        "r": report,
        "customer": one_line(report.customer),
        "week": report.week.label,
        "from_day": report.week.monday.isoformat(),
        "to_day": report.week.days()[-1].isoformat(),
        "timezone": report.week.timezone,
        "leak_time_total": hours(sum((line.leak_time for line in report.lines), timedelta(0))),
        "leak_change": change(
            sum(line.leak_time.total_seconds() for line in report.lines),
            sum(line.previous_leak_time.total_seconds() for line in report.lines),
        ),
        "energy_change": change(report.energy_week_kwh, report.energy_previous_week_kwh),
        "change": change,
        "local": local,
        "chart_cid": CHART_CID,
        "has_chart": report.chart_line is not None,
    }


def render_bodies(report: WeeklyReport) -> tuple[str, str, str]:
    """(subject, text, html)."""
    ctx = context(report)
    subject = _env.get_template("subject.txt.j2").render(ctx)
    return (
        one_line(subject, 250),
        _env.get_template("mail.txt.j2").render(ctx),
        _env.get_template("mail.html.j2").render(ctx),
    )


def _addresses(recipients: list[str]) -> list[Address]:
    out = []
    for name, addr in getaddresses([one_line(r, 320) for r in recipients]):
        if "@" in addr:
            user, domain = addr.rsplit("@", 1)
            out.append(Address(display_name=one_line(name, 80), username=user, domain=domain))
    return out


def message_id(customer: str, week: str, domain: str) -> str:
    """Stable per customer and week: a repeated mail is recognisably the same one."""
    return f"<weekly-{re.sub(r'[^A-Za-z0-9._-]', '_', customer)}-{week}@{domain}>"


def build_message(
    report: WeeklyReport, recipients: list[str], sender: str, domain: str, chart: bytes | None
) -> EmailMessage:
    subject, text, html = render_bodies(report)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = one_line(sender, 320)
    msg["To"] = _addresses(recipients)
    msg["Date"] = format_datetime(report.week.end)
    msg["Message-ID"] = message_id(report.customer, report.week.label, domain)
    msg["X-Finemeca-Report"] = f"weekly {report.week.label}"
    msg["X-Finemeca-Customer"] = one_line(report.customer)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    if chart is not None:
        html_part = msg.get_body(("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(
            chart, maintype="image", subtype="png", cid=f"<{CHART_CID}>", filename="leak-chart.png"
        )
    return msg
