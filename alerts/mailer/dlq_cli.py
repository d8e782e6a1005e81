"""`finemeca mailer dlq list | show | redrive`: the alerts dead-letter queue (`MAILER_DEAD_LETTER_QUEUE`).

A re-driven event goes back to `MAILER_QUEUE` with a `redriven_at` header: the mailer then tries it
again even though its sent record says `dead-lettered`.
"""

from __future__ import annotations

import json

import typer

from alerts.mailer.settings import MailerSettings
from finemeca import dlq, naming
from finemeca.config import StompSettings

dlq_app = typer.Typer(no_args_is_help=True, help="The alerts dead-letter queue: list, show, re-drive.")
# what a re-driven event keeps of its dead-lettered copy (the publisher's headers, see alerts/publisher.py)
KEEP_HEADERS = frozenset(
    {"content-type", naming.HEADER_EVENT_ID, naming.HEADER_SENSOR, "event-kind", "rule", "device-key"}
)

ReasonOption = typer.Option(None, "--reason", help="only dead letters whose reason contains this text")
IdOption = typer.Option(None, "--id", help="only this message id (as shown by `list`)")
IdleOption = typer.Option(5.0, help="seconds without a new message that end the browse")


def _event_summary(body: bytes) -> str:
    try:
        event = json.loads(body)
        return f"{event.get('kind', '?')} {event.get('rule', '?')} {event.get('device_key', '?')}"
    except (ValueError, AttributeError):
        return "(not an alert event)"


@dlq_app.command("list")
def list_(
    reason: str | None = ReasonOption,
    limit: int = typer.Option(100, help="show at most this many"),
    idle_timeout: float = IdleOption,
) -> None:
    """Dead-lettered alert events, oldest first, without consuming them."""
    settings = MailerSettings()
    letters = dlq.browse(
        settings.dead_letter_queue, StompSettings(), dlq.selector(reason), limit, idle_timeout
    )
    for letter in letters:  # one line each (grep-friendly); `show` prints the whole reason
        reason = letter.reason if len(letter.reason) <= 120 else letter.reason[:119] + "…"
        typer.echo(f"{letter.message_id}  {letter.at}  {_event_summary(letter.body)}  {reason}")
    typer.echo(f"{len(letters)} dead letter(s) in {settings.dead_letter_queue}")


@dlq_app.command()
def show(
    message_id: str = typer.Argument(..., help="message id from `finemeca mailer dlq list`"),
    idle_timeout: float = IdleOption,
) -> None:
    """One dead letter: its headers (reason, stage, time) and the event."""
    settings = MailerSettings()
    found = dlq.browse(
        settings.dead_letter_queue, StompSettings(), dlq.selector(message_id=message_id), 1, idle_timeout
    )
    if not found:
        typer.secho(f"no message {message_id} in {settings.dead_letter_queue}", fg="red", err=True)
        raise typer.Exit(1)
    letter = found[0]
    for key, value in sorted(letter.headers.items()):
        typer.echo(f"{key}: {value}")
    try:
        typer.echo(json.dumps(json.loads(letter.body), indent=2, ensure_ascii=False))
    except ValueError:
        typer.echo(letter.body.decode(errors="replace"))


@dlq_app.command()
def redrive(
    reason: str | None = ReasonOption,
    message_id: str | None = IdOption,
    limit: int = typer.Option(0, help="move at most this many (0 = all that match)"),
    idle_timeout: float = IdleOption,
) -> None:
    """Send the matching dead letters back to the mailer's queue (after fixing the cause)."""
    settings = MailerSettings()
    moved = dlq.redrive(
        settings.dead_letter_queue,
        settings.queue,
        KEEP_HEADERS,
        StompSettings(),
        dlq.selector(reason, message_id=message_id),
        limit or None,
        idle_timeout,
    )
    typer.echo(f"re-drove {moved} event(s) from {settings.dead_letter_queue} to {settings.queue}")
