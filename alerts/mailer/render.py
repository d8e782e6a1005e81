"""Alert mail: multipart/alternative (plain text + HTML) from Jinja2 templates.

What a mail says is computed here once (`MailView`) and laid out by both templates, so the text and HTML
parts cannot disagree. Tenses follow the event: a resolution or an `occurred` episode is told in the past
with the reading that held then; "ago" counts from the moment the mail is composed (`now`), not from the
event's creation.

Device values are untrusted: HTML autoescaping is on, and every header value goes through
EmailMessage/headerregistry with CR/LF removed, so a device name cannot inject headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.durations import format_duration
from alerts.events import AlertEvent
from alerts.mailer.settings import MailerSettings
from finemeca import naming

TEMPLATES = Path(__file__).parent / "templates"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
FOLLOW_UP_KINDS = frozenset({"reminder", "resolved"})  # reply to the episode's fired mail
TITLES = {
    "fired": "Alert", "reminder": "Still alerting", "resolved": "Resolved", "occurred": "Occurred",
    "flapping": "Flapping", "settled": "Settled",
}  # fmt: skip
COLOURS = {
    "fired": "#c0392b", "reminder": "#d35400", "resolved": "#27ae60", "occurred": "#8e44ad",
    "flapping": "#b7950b", "settled": "#27ae60",
}  # fmt: skip
ONGOING_KINDS = frozenset({"fired", "reminder", "flapping"})  # told in the present tense

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class FirstMail:
    """What became of the episode's fired mail, as the mailer recorded it."""

    status: str  # sent | dead-lettered | unknown (claimed, outcome never recorded) | missing (never handled)
    reason: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status == "sent"

    def notice(self) -> str | None:
        """The plain words a follow-up mail must say when nobody got the first one."""
        if self.status == "dead-lettered":
            why = f" ({self.reason})" if self.reason else ""
            return f"The alert mail of this episode was NOT delivered: it went to the dead-letter queue{why}."
        if self.status == "unknown":
            return "The alert mail of this episode may NOT have been delivered: its sending was interrupted."
        if self.status == "missing":
            return "No alert mail was sent for this episode: the mailer never received its alert event."
        return None


@dataclass(frozen=True)
class LateDelivery:
    """A mail re-driven from the dead-letter queue: it arrives late and says why."""

    reason: str | None = None  # why it had been dead-lettered
    already_resolved: bool = False  # the episode's resolution was mailed before this alert

    def notice(self) -> str:
        why = f" (it went there because: {self.reason})" if self.reason else ""
        over = (
            " The episode is already over: its resolution was mailed before this alert."
            if self.already_resolved
            else ""
        )
        return f"Sent late: this mail was re-driven from the dead-letter queue{why}.{over}"


@dataclass(frozen=True)
class Comparison:
    left: str
    left_value: Any
    op: str
    right: str
    right_value: Any
    unit: str

    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        left, right = self.left.replace("_", " "), self.right.replace("_", " ")
        return f"{left} {self.left_value}{unit} {self.op} {right} {self.right_value}{unit}"


def one_line(value: object, limit: int = 200) -> str:
    """Header-safe text: control characters (CR, LF, NUL ...) become spaces."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())[:limit]


def message_id(event: AlertEvent, domain: str) -> str:
    return f"<{event.event_id}@{domain}>"


def dashboard_link(event: AlertEvent, base_url: str) -> str:
    """Kibana dashboard of the sensor, filtered on the device, from the episode start."""
    path = f"/app/dashboards#/view/{naming.sensor_dashboard_id(event.sensor)}"
    since = event.episode_start.isoformat().replace("+00:00", "Z")
    query = quote(f'device_key : "{event.device_key}"', safe="")
    return f"{base_url.rstrip('/')}{path}?_g=(time:(from:'{since}',to:now))&_a=(query:(language:kuery,query:'{query}'))"


def comparison_of(values: dict[str, Any]) -> Comparison | None:
    """`{pressure: 6.35, op: '>=', opening_pressure: 5.8, unit: bar}` -> one comparison, else None."""
    if "op" not in values:
        return None
    names = [k for k in values if k not in ("op", "unit")]
    if len(names) != 2:
        return None
    unit = str(values.get("unit", ""))
    return Comparison(names[0], values[names[0]], str(values["op"]), names[1], values[names[1]], unit)


def _sanitized(event: AlertEvent) -> AlertEvent:
    untrusted = ("device_name", "line", "customer", "device_key")
    return event.model_copy(
        update={n: one_line(getattr(event, n)) for n in untrusted if getattr(event, n) is not None}
    )


def _story(event: AlertEvent, t: dict[str, str], over: bool) -> str:
    """The opening sentence, in the tense the event calls for."""
    breach = comparison_of(event.values)  # the rule's own comparison: what the episode was about
    condition = f" ({breach.left} {breach.op} {breach.right})".replace("_", " ") if breach else ""
    crossings = f"{event.flaps} times" if event.flaps is not None else "repeatedly"
    window = f" within {t['window']}" if t["window"] else ""
    if event.kind == "resolved":
        return (
            f"The condition of rule {event.rule}{condition} cleared at {t['end']} ({t['end_ago']} before this "
            f"mail), after {t['duration']} (it started at {t['since']})."
        )
    if event.kind == "occurred":
        return (
            f"The condition of rule {event.rule}{condition} held from {t['since']} to {t['end']} "
            f"({t['duration']}), {t['end_ago']} before this mail. It was found in readings the alert job had "
            "not evaluated in time, so no alert mail was sent while it lasted."
        )
    if event.kind == "flapping":
        return (
            f"The condition of rule {event.rule}{condition} came and went {crossings}{window} (since "
            f"{t['since']}): the line is unstable. No further alert or resolved mails for it until it settles."
        )
    if event.kind == "settled":
        return (
            f"The line is steady again since {t['end']}, after flapping from {t['since']} "
            f"({crossings}{window}). Alert and resolved mails resume for it."
        )
    if over:  # a late alert for an episode that already ended: not in the present tense
        return f"When it fired at {t['at']}: {event.description or f'rule {event.rule} was breached.'}"
    return event.description or f"Rule {event.rule} is firing."


def mail_context(
    event: AlertEvent,
    settings: MailerSettings,
    now: datetime,
    first_mail: FirstMail | None = None,
    late: LateDelivery | None = None,
) -> dict[str, Any]:
    zone = ZoneInfo(settings.timezone)
    event = _sanitized(event)

    def local(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    end = event.episode_end or event.at  # first healthy reading (start of the steady run when settled)
    times = {
        "since": local(event.episode_start),
        "at": local(event.at),
        "end": local(end),
        "now": local(now),
        "since_ago": format_duration(now - event.episode_start),
        "end_ago": format_duration(now - end),
        "duration": format_duration(end - event.episode_start),
        "window": format_duration(timedelta(seconds=event.flap_window_s)) if event.flap_window_s else "",
    }
    values = event.observed_values()
    comparison = comparison_of(values)
    ongoing = event.kind in ONGOING_KINDS
    facts = [
        ("Device", f"{event.device_name or '-'} ({event.device_key})"),
        ("Line", event.line or "-"),
        ("Customer", event.customer or "-"),
        ("Since" if ongoing else "Started", f"{times['since']} ({times['since_ago']} before this mail)"),
    ]
    if event.kind == "reminder":
        facts.append(("Reminder", f"#{event.reminder_number}, still breaching at {times['at']}"))
    if event.flaps is not None:
        window = f" within {times['window']}" if times["window"] else ""
        facts.append(("Crossings", f"{event.flaps}{window}"))
    if not ongoing:
        ended = {"resolved": "Recovered", "settled": "Steady since"}.get(event.kind, "Ended")
        facts.append((ended, f"{times['end']} ({times['end_ago']} before this mail)"))
        facts.append(("Flapped for" if event.kind == "settled" else "Lasted", times["duration"]))
    reading_label = {"fired": "Reading", "reminder": "Reading", "resolved": "Recovered reading"}.get(
        event.kind, "Last reading"
    )
    if comparison:
        facts.append((reading_label, comparison.text()))
    else:
        facts += [(name.replace("_", " "), str(value)) for name, value in values.items()]
    notices = [n for n in (first_mail.notice() if first_mail else None, late.notice() if late else None) if n]
    return {
        "event": event,
        "title": TITLES.get(event.kind, event.kind.capitalize()),
        "colour": COLOURS.get(event.kind, "#1f2937"),
        "subject_device": event.line or event.device_name or event.device_key,
        "times": times,
        "story": _story(event, times, late is not None and late.already_resolved),
        "notices": notices,
        "first_mail_missed": first_mail is not None and not first_mail.delivered,
        "late": late is not None,
        "facts": facts,
        "comparison": comparison,
        "reading_label": reading_label,
        "link": dashboard_link(event, settings.dashboard_url),
    }


def render_bodies(
    event: AlertEvent,
    settings: MailerSettings,
    now: datetime | None = None,
    first_mail: FirstMail | None = None,
    late: LateDelivery | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) as of `now` (default: the current time)."""
    ctx = mail_context(event, settings, now or datetime.now(UTC), first_mail, late)
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


def build_message(
    event: AlertEvent,
    recipients: list[str],
    sender: str,
    settings: MailerSettings,
    now: datetime | None = None,
    first_mail: FirstMail | None = None,
    late: LateDelivery | None = None,
) -> EmailMessage:
    """The whole message as of `now`. A follow-up (reminder, resolution) replies to the fired mail only
    when that one was delivered; otherwise it stands alone and says so (`first_mail`)."""
    now = now or datetime.now(UTC)
    subject, text, html = render_bodies(event, settings, now, first_mail, late)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = one_line(sender, 320)
    msg["To"] = _addresses(recipients)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(event, settings.message_id_domain)
    msg["X-Finemeca-Event-Id"] = event.event_id
    msg["X-Finemeca-Event-Kind"] = event.kind
    msg["X-Finemeca-Rule"] = one_line(event.rule)
    msg["X-Finemeca-Device"] = one_line(event.device_key)
    msg["Auto-Submitted"] = "auto-generated"
    if event.kind in FOLLOW_UP_KINDS and (first_mail is None or first_mail.delivered):
        first = f"<{event.fired_event_id()}@{settings.message_id_domain}>"
        msg["In-Reply-To"] = first
        msg["References"] = first
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
