"""Alert mail: multipart/alternative (plain text + HTML) from Jinja2 templates.

Device values are untrusted: HTML autoescaping is on, and every header value goes through
EmailMessage/headerregistry with CR/LF removed, so a device name cannot inject headers.
"""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.durations import format_duration
from alerts.events import AlertEvent, event_id
from alerts.mailer.settings import MailerSettings
from finemeca import naming

TEMPLATES = Path(__file__).parent / "templates"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


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


def mail_context(event: AlertEvent, settings: MailerSettings) -> dict[str, Any]:
    zone = ZoneInfo(settings.timezone)
    untrusted = ("device_name", "line", "customer", "device_key")
    event = event.model_copy(
        update={
            name: one_line(getattr(event, name)) for name in untrusted if getattr(event, name) is not None
        }
    )
    values = event.values
    comparison = None
    if "op" in values:
        names = [k for k in values if k not in ("op", "unit")]
        if len(names) == 2:
            comparison = {
                "left": names[0],
                "op": values["op"],
                "right": names[1],
                "unit": values.get("unit", ""),
            }
    return {
        "event": event,
        "title": {"fired": "Alert", "reminder": "Still alerting", "resolved": "Resolved"}[event.kind],
        "subject_device": event.line or event.device_name or event.device_key,
        "since_local": event.episode_start.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
        "at_local": event.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
        "duration": format_duration(event.at - event.episode_start),
        "comparison": comparison,
        "values": values,
        "link": dashboard_link(event, settings.dashboard_url),
    }


def render_bodies(event: AlertEvent, settings: MailerSettings) -> tuple[str, str, str]:
    """(subject, text, html)."""
    ctx = mail_context(event, settings)
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
    event: AlertEvent, recipients: list[str], sender: str, settings: MailerSettings
) -> EmailMessage:
    subject, text, html = render_bodies(event, settings)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = one_line(sender, 320)
    msg["To"] = _addresses(recipients)
    msg["Date"] = format_datetime(event.generated_at or event.at)
    msg["Message-ID"] = message_id(event, settings.message_id_domain)
    msg["X-Finemeca-Event-Id"] = event.event_id
    msg["X-Finemeca-Event-Kind"] = event.kind
    msg["X-Finemeca-Rule"] = one_line(event.rule)
    msg["X-Finemeca-Device"] = one_line(event.device_key)
    msg["Auto-Submitted"] = "auto-generated"
    if event.kind != "fired":  # threads reminders and the resolution under the first mail
        first = event.model_copy(update={"event_id": _fired_id(event)})
        msg["In-Reply-To"] = message_id(first, settings.message_id_domain)
        msg["References"] = message_id(first, settings.message_id_domain)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def _fired_id(event: AlertEvent) -> str:

    return event_id(event.rule, event.device_key, event.episode_start, "fired", 0)
