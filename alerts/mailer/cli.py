"""`finemeca mailer run | render | dlq list|show|redrive`."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import typer
from pydantic import ValidationError

from alerts.events import AlertEvent
from alerts.mailer.consumer import Mailer
from alerts.mailer.dlq_cli import dlq_app
from alerts.mailer.recipients import RecipientBook
from alerts.mailer.render import build_message, render_bodies
from alerts.mailer.settings import MailerSettings
from finemeca.config import ObservabilitySettings, SmtpSettings
from finemeca.es import make_client, wait_until_healthy
from finemeca.logs import configure_logging
from finemeca.metrics import serve_health_and_metrics

app = typer.Typer(no_args_is_help=True, help="Mailer: alert events from ActiveMQ to SMTP.")
app.add_typer(dlq_app, name="dlq")


@app.command()
def run(
    max_messages: int = typer.Option(0, help="exit after this many messages (0 = never)"),
) -> None:
    """Mail every alert event from ActiveMQ (settings: MAILER_*, SMTP_*, STOMP_*, ES_*)."""

    configure_logging(role="mailer")
    try:
        settings = MailerSettings()  # before connecting: a missing KIBANA_PUBLIC_URL fails at once
    except ValidationError as exc:
        typer.echo(f"mailer settings: {exc}", err=True)
        raise typer.Exit(2) from exc
    es = make_client()
    wait_until_healthy(es, timeout=60)
    mailer = Mailer(es, settings)
    obs = ObservabilitySettings()
    if obs.metrics_port:
        serve_health_and_metrics(obs.metrics_host, obs.metrics_port, mailer.health)
    signal.signal(signal.SIGTERM, lambda *_: mailer.stop.set())
    try:
        mailer.run(max_messages=max_messages or None)
    except KeyboardInterrupt:
        mailer.stop.set()


@app.command()
def render(
    event_file: Path = typer.Argument(..., help="alert event as JSON (as published on the queue)"),
    out: Path = typer.Option(Path("alert-mail.html"), help="where to write the HTML part"),
    eml: Path | None = typer.Option(None, help="also write the whole message (.eml)"),
    now: str | None = typer.Option(None, help="compose as of this ISO time (default: now)"),
) -> None:
    """Render one event to HTML (and .eml) without sending: previews and screenshots."""

    settings = MailerSettings()
    event = AlertEvent.model_validate_json(event_file.read_text())
    at = datetime.fromisoformat(now) if now else datetime.now(UTC)
    subject, _text, html = render_bodies(event, settings, at)
    out.write_text(html, encoding="utf-8")
    typer.echo(f"{subject}\n-> {out}")
    if eml:
        recipients = RecipientBook.load(settings.recipients_file, settings.default_list()).for_event(event)
        message = build_message(event, recipients or ["ops@example.com"], SmtpSettings().sender, settings, at)
        eml.write_bytes(bytes(message))
