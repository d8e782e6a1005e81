"""`finemeca ingestor run --sensor <name>` and the dead-letter tools `finemeca ingestor dlq ...`."""

from __future__ import annotations

import json
import time
from enum import StrEnum

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from finemeca.config import StompSettings
from finemeca.logs import configure_logging
from finemeca.queue_stats import QueueStatsClient
from ingestor.dlq import BROWSE_MAX, browse, find, redrive
from ingestor.service import run_ingestor
from sensors.registry import available_sensors

app = typer.Typer(
    no_args_is_help=True, help="ActiveMQ -> Elasticsearch indexer for one sensor; dead-letter tools."
)
dlq_app = typer.Typer(no_args_is_help=True, help="List, inspect and re-drive dead-lettered messages.")
app.add_typer(dlq_app, name="dlq")
console = Console()
plain = Console(emoji=False, highlight=False)  # for what comes from messages: printed as it is

SENSOR = typer.Option(..., envvar="SENSOR", help=f"sensor kind: {', '.join(available_sensors())}")
REASON = typer.Option(None, help="only messages whose reason contains this text")
STAGE = typer.Option(None, help="only this stage: gateway, parse, validate, transform, index, conflict")


def _check(sensor: str) -> None:
    if sensor not in available_sensors():
        raise typer.BadParameter(f"unknown sensor {sensor!r}; known: {', '.join(available_sensors())}")


@app.command()
def run(sensor: str = SENSOR) -> None:
    """Index the sensor's queue into Elasticsearch (settings: STOMP_*, ES_*, INGESTOR_*, SENSOR_TIMEZONE)."""
    _check(sensor)

    configure_logging(role="ingestor", sensor=sensor)
    run_ingestor(sensor)


@app.command()
def queues() -> None:
    """Depth of every data queue and DLQ (ActiveMQ statistics plugin; settings: STOMP_*)."""
    settings = StompSettings()
    client = QueueStatsClient(settings, client_name="queues-cli")
    try:
        found = client.query(f"{settings.queue_prefix}.>", f"DLQ.{settings.queue_prefix}.>")
    finally:
        client.close()
    table = Table(title=f"ActiveMQ queues {settings.queue_prefix}.* at {settings.host}:{settings.port}")
    for col in ("queue", "depth", "enqueued", "dequeued", "consumers"):
        table.add_column(col, justify="left" if col == "queue" else "right")
    for s in found:
        style = "red" if s.name.startswith("DLQ.") and s.depth else None
        table.add_row(s.name, str(s.depth), str(s.enqueued), str(s.dequeued), str(s.consumers), style=style)
    console.print(table if found else f"no queue named {settings.queue_prefix}.* on the broker yet")


class Format(StrEnum):
    table = "table"
    tsv = "tsv"
    json = "json"


@dlq_app.command("list")
def dlq_list(
    sensor: str = SENSOR,
    reason: str | None = REASON,
    stage: str | None = STAGE,
    limit: int = typer.Option(50, help=f"at most this many (every one: --limit {BROWSE_MAX})"),
    output: Format = typer.Option(Format.table, "--format", help="table, tsv (one per line) or json lines"),
) -> None:
    """Browse dead letters, oldest first (nothing is consumed). Ids are printed verbatim for `dlq show`."""
    _check(sensor)
    letters = browse(sensor, reason=reason, stage=stage, limit=limit)
    if output is Format.json:
        for d in letters:
            typer.echo(
                json.dumps({"message_id": d.message_id, "stage": d.stage, "at": d.at, "reason": d.reason})
            )
        return
    if output is Format.tsv:
        for d in letters:
            typer.echo("\t".join((d.message_id, d.stage, d.at, " ".join(d.reason.split()))))
        return
    table = Table(title=f"dead letters of {sensor} ({len(letters)} shown)")
    widest = max((len(d.message_id) for d in letters), default=10)
    table.add_column("message id", no_wrap=True, min_width=widest)  # one piece, to paste into `dlq show`
    for col in ("stage", "at", "reason", "body"):
        table.add_column(col, overflow="fold")
    for d in letters:  # Text cells: no markup, no emoji (an id holding `:-1:` must stay as it is)
        cells = (d.message_id, d.stage, d.at, d.reason, d.body[:80].decode("utf-8", "replace"))
        table.add_row(*(Text(cell) for cell in cells))
    plain.print(table)


@dlq_app.command("show")
def dlq_show(message_id: str, sensor: str = SENSOR) -> None:
    """Print one dead letter: headers and full body."""
    _check(sensor)
    letter = find(sensor, message_id)
    if letter is None:
        plain.print(Text(f"no dead letter with id {message_id} in {sensor}'s DLQ", style="red"))
        raise typer.Exit(1)
    typer.echo(
        json.dumps({"headers": letter.headers, "body": letter.body.decode("utf-8", "replace")}, indent=2)
    )


@dlq_app.command("redrive")
def dlq_redrive(
    sensor: str = SENSOR,
    reason: str | None = REASON,
    stage: str | None = STAGE,
    limit: int | None = typer.Option(None, help="at most this many"),
    yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
) -> None:
    """Send matching dead letters back through the normal (idempotent) path, in batches."""
    _check(sensor)
    count = len(browse(sensor, reason=reason, stage=stage, limit=limit or BROWSE_MAX))
    if count == 0:
        console.print("nothing to re-drive")
        return
    if not yes:
        typer.confirm(f"re-drive {count} message(s) of {sensor} to its data queue?", abort=True)
    started = time.monotonic()
    moved = redrive(sensor, reason=reason, stage=stage, limit=limit)
    seconds = time.monotonic() - started
    console.print(f"re-drove {moved} message(s) to the {sensor} data queue in {seconds:.1f}s")
